import { z } from "zod";
import { session } from "../fields";
import { call } from "../node";
import { defineTool, ToolError } from "../tool";

export default defineTool({
  name: "codewire_send_input",
  title: "Type into a session",
  description: [
    "Type text into a running session's terminal, as if typed at its keyboard, then press Enter (unless newline is false).",
    "With Enter, the text is submitted the way agents' TUIs take it (pasted, Enter after a pause, checked, Enter once more if needed); the result says whether the program was seen to take it (submit: verified, unconfirmed) and the call fails if the text is still on its input line afterwards.",
    "Use it to answer a prompt (\"y\"), run a command in an interactive shell, or give an agent's TUI an instruction. Control characters work with newline false: \"\\u0003\" is Ctrl+C, \"\\u001b\" is Escape. raw true sends the text's bytes exactly (no Enter, newlines not turned into the carriage returns a terminal sends). To leave a message an agent reads with its inbox instead, use codewire_msg.",
    "Returns the number of bytes written. Fails if the session is not running.",
  ].join("\n"),
  input: {
    session,
    text: z.string().max(1024 * 1024).describe("The text to type."),
    newline: z.boolean().default(true).describe("Press Enter after the text (a carriage return on a terminal). Default true."),
    raw: z.boolean().default(false).describe("Send the text exactly as given: no Enter, newlines not turned into carriage returns. Default false."),
  },
  output: { bytes: z.number().int(), submit: z.enum(["verified", "unconfirmed"]).optional() },
  annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
  async run(a) {
    // A terminal's Enter is a carriage return; raw-mode programs (TUIs) expect exactly that. With
    // `enter` the node submits it as pty-delivery.ts describes, or sends a newline to a program on pipes.
    const enter = a.newline && !a.raw;
    const data = a.text + (enter ? "\r" : "");
    if (!data) return { text: "Nothing to send (empty text, newline false).", data: { bytes: 0 } };
    const r = await call({ type: "SendInput", id: a.session, data_b64: Buffer.from(data, "utf8").toString("base64"), enter, raw: a.raw }, "InputSent");
    if (r.submit === "failed") {
      throw new ToolError(`typed into session ${a.session}, but Enter did not submit it: the text is still on its input line after Enter twice`, `the program may be busy: codewire_read_session_output shows its screen; send_input with text "" presses Enter again`);
    }
    const how =
      r.submit === "verified"
        ? " The program took it (its input line cleared)."
        : r.submit === "unconfirmed"
          ? " Enter was pressed, but the text never showed on the program's input line, so whether it was taken is unknown: check its output."
          : "";
    return { text: `Sent ${r.bytes} bytes to session ${a.session}.${how}`, data: { bytes: r.bytes, ...(r.submit ? { submit: r.submit } : {}) } };
  },
});
