/**
 * Output that asks the terminal a question is handed to the screen emulator at once (the rest
 * waits for a batch): which output asks.
 */
import { describe, expect, test } from "bun:test";
import { asksTheTerminal } from "../src/node/screen/queries";

const asks = (s: string) => asksTheTerminal(new TextEncoder().encode(s));

describe("output that asks the terminal", () => {
  test.each([
    ["cursor position (DSR 6)", "abc\x1b[6n"],
    ["status (DSR 5)", "\x1b[5n"],
    ["DEC cursor position", "\x1b[?6n"],
    ["primary device attributes", "\x1b[c"],
    ["primary device attributes, 0", "\x1b[0c"],
    ["secondary device attributes", "\x1b[>c"],
    ["a mode (DECRQM)", "\x1b[?2004$p"],
    ["the terminal's version (XTVERSION)", "\x1b[>q"],
    ["the kitty keyboard flags", "\x1b[?u"],
    ["the background colour (OSC 11)", "\x1b]11;?\x07"],
    ["the foreground colour, ST-terminated", "\x1b]10;?\x1b\\"],
    ["a palette colour", "\x1b]4;1;?\x07"],
    ["a setting (DECRQSS)", "\x1bP$qm\x1b\\"],
    ["a capability (XTGETTCAP)", "\x1bP+q544e\x1b\\"],
    ["a question after a redraw", "\x1b[2J\x1b[H\x1b[1;32mready\x1b[0m\x1b[6n"],
  ])("%s", (_, s) => expect(asks(s)).toBe(true));

  test.each([
    ["plain text", "working..."],
    ["a spinner's redraw", "\r\x1b[2K\x1b[36m⠋\x1b[0m Thinking"],
    ["colours and cursor moves", "\x1b[1;1H\x1b[38;5;208mx\x1b[0m\x1b[?25l\x1b[?2004h"],
    ["kitty keyboard push and pop", "\x1b[>1u\x1b[<u"],
    ["setting the cursor style", "\x1b[2 q"],
    ["a title", "\x1b]0;my title ?\x07"],
    ["a hyperlink", "\x1b]8;;https://example.com/?q=1\x1b\\link\x1b]8;;\x1b\\"],
    ["a lone escape at the end", "abc\x1b"],
    ["an escape sequence cut short", "\x1b["],
  ])("not %s", (_, s) => expect(asks(s)).toBe(false));
});
