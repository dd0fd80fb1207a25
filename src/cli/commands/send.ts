import { readFileSync } from "node:fs";
import { call } from "../../client/node-client";
import { argBytes } from "../../sys/argv";
import { defineCwCommand } from "../define";
import { CommandError, EXIT, UsageError } from "../errors";
import { err, printJson, yellow } from "../output";
import { sessionRef } from "../target";

/** One line ending (LF or CRLF) at the end of piped or file input is where Enter goes, not text. */
function withoutFinalNewline(b: Buffer): Buffer {
  if (b.at(-1) !== 0x0a) return b;
  return b.subarray(0, b.at(-2) === 0x0d ? -2 : -1);
}

export default defineCwCommand({
  name: "send",
  description:
    "Type input into a session without attaching, then press Enter (unless --no-newline). On a terminal the text goes as an agent's TUI takes it: pasted, Enter after a pause, then a check that the program took it (Enter once more if not). Exits 1 if the text is still on the program's input line after that; warns if it never showed there (so it cannot be checked). Newlines are sent as a terminal sends them (CR); --raw sends the bytes exactly as given.",
  usage: "cw send <id|name> [input] [options]",
  examples: [
    'cw send 1 "Status update?"',
    'cw send 1 "test" --no-newline',
    'echo "command" | cw send 1 --stdin',
    "cw send 1 --file commands.txt",
    "printf '\\x1b' | cw send 1 --stdin --raw   # bytes exactly as given (here: Escape)",
    'cw send 1 -- "-end"          # text that starts with -: after --',
  ],
  textAfterDash: true,
  args: {
    session: { type: "positional", description: "Session id or name" },
    input: { type: "positional", required: false, description: "Text to send" },
    newline: { type: "boolean", default: true, description: "Press Enter after the text", negativeDescription: "Do not press Enter after the text" },
    raw: { type: "boolean", description: "Send the bytes exactly as given: no Enter, no paste, newlines left as they are" },
    stdin: { type: "boolean", description: "Read the input from standard input (its final newline is the Enter)" },
    file: { type: "string", alias: "F", description: "Read the input from a file (its final newline is the Enter)" },
    json: { type: "boolean", description: "Print the result as JSON" },
  },
  async run({ args }) {
    const id = sessionRef(args.session as string);
    const sources = [args.input !== undefined, Boolean(args.stdin), args.file !== undefined].filter(Boolean).length;
    if (sources !== 1) throw new UsageError("give the input one way: as an argument, --stdin, or --file", 'cw send 1 "hello"');
    let bytes: Buffer;
    if (args.stdin) bytes = Buffer.from(await new Response(Bun.stdin.stream()).arrayBuffer());
    else if (args.file !== undefined) {
      try {
        bytes = readFileSync(args.file as string);
      } catch (e) {
        throw new CommandError(`cannot read ${args.file}: ${(e as Error).message}`, "check the path; `--stdin` reads standard input instead");
      }
    } else bytes = argBytes(String(args.input));
    const raw = Boolean(args.raw);
    if (!raw) bytes = withoutFinalNewline(bytes);
    // A terminal's Enter is a carriage return. The client ends the text with it (a node before
    // `enter` existed just writes it); `enter` lets the node submit it properly, or make it a
    // newline for a program on pipes.
    const enter = args.newline !== false && !raw;
    if (enter) bytes = Buffer.concat([bytes, Buffer.from("\r")]);
    if (bytes.length > 8 * 1024 * 1024) throw new UsageError(`input of ${bytes.length} bytes is too large (limit 8 MiB)`, "send it in parts, or have the program read a file");
    const r = await call({ type: "SendInput", id, data_b64: bytes.toString("base64"), enter, raw }, "InputSent", { blocking: true });
    if (args.json) printJson(r);
    const who = `session ${args.session}`;
    if (r.submit === "unconfirmed") {
      err(`${yellow("warning:", 2)} typed into ${who} and pressed Enter, but the text never showed on its input line, so whether it was taken is unknown\n`);
      err(`hint: \`cw screen ${args.session}\` shows the program's screen\n`);
    } else if (r.submit === "failed") {
      err(`${yellow("warning:", 2)} typed into ${who}, but Enter did not submit it: the text is still on its input line after Enter twice\n`);
      err(`hint: the program may be busy; \`cw screen ${args.session}\` shows it, and \`cw send ${args.session} ""\` presses Enter again\n`);
      return EXIT.error;
    }
  },
});
