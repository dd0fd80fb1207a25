import { z } from "zod";
import { session } from "../fields";
import { call } from "../node";
import { defineTool } from "../tool";

export default defineTool({
  name: "codewire_send_input",
  title: "Type into a session",
  description: [
    "Type text into a running session's terminal, as if typed at its keyboard, then press Enter (unless newline is false).",
    "Use it to answer a prompt (\"y\"), run a command in an interactive shell, or give an agent's TUI an instruction. Control characters work: \"\\u0003\" is Ctrl+C, \"\\u001b\" is Escape. To leave a message an agent reads with its inbox instead, use codewire_msg.",
    "Returns the number of bytes written. Fails if the session is not running.",
  ].join("\n"),
  input: {
    session,
    text: z.string().max(1024 * 1024).describe("The text to type."),
    newline: z.boolean().default(true).describe("Press Enter after the text (a carriage return on a terminal). Default true."),
  },
  output: { bytes: z.number().int() },
  annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
  async run(a) {
    // A terminal's Enter is a carriage return; raw-mode programs (TUIs) expect exactly that. With
    // `enter` the node sends a newline instead to a program on pipes.
    const data = a.text + (a.newline ? "\r" : "");
    if (!data) return { text: "Nothing to send (empty text, newline false).", data: { bytes: 0 } };
    const r = await call({ type: "SendInput", id: a.session, data_b64: Buffer.from(data, "utf8").toString("base64"), enter: a.newline }, "InputSent");
    return { text: `Sent ${r.bytes} bytes to session ${a.session}.`, data: { bytes: r.bytes } };
  },
});
