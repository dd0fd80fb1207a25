import { readFileSync } from "node:fs";
import { call } from "../../client/node-client";
import { defineCwCommand } from "../define";
import { UsageError } from "../errors";
import { printJson } from "../output";
import { sessionRef } from "../target";

export default defineCwCommand({
  name: "send",
  description: "Type input into a session without attaching. A newline (Enter) is added unless --no-newline.",
  usage: "cw send <id|name> [input] [options]",
  examples: ['cw send 1 "Status update?"', 'cw send 1 "test" --no-newline', 'echo "command" | cw send 1 --stdin', "cw send 1 --file commands.txt", 'cw send 1 -- "-end"          # text that starts with -: after --'],
  textAfterDash: true,
  args: {
    session: { type: "positional", description: "Session id or name" },
    input: { type: "positional", required: false, description: "Text to send" },
    newline: { type: "boolean", default: true, description: "Press Enter after the text", negativeDescription: "Do not add a newline" },
    stdin: { type: "boolean", description: "Read the input from standard input" },
    file: { type: "string", alias: "F", description: "Read the input from a file" },
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
        throw new UsageError(`cannot read ${args.file}: ${(e as Error).message}`);
      }
    } else bytes = Buffer.from(String(args.input), "utf8");
    // A terminal's Enter is a carriage return; programs in raw mode (TUIs) expect exactly that.
    // `enter` tells the node it is one, so that a program on pipes gets a newline instead.
    const enter = args.newline !== false && !args.stdin && !args.file;
    if (enter) bytes = Buffer.concat([bytes, Buffer.from("\r")]);
    if (bytes.length > 8 * 1024 * 1024) throw new UsageError(`input of ${bytes.length} bytes is too large (limit 8 MiB)`, "send it in parts, or have the program read a file");
    const r = await call({ type: "SendInput", id, data_b64: bytes.toString("base64"), enter }, "InputSent", { blocking: true });
    if (args.json) printJson(r);
  },
});
