import { main } from "./cli/main";

const status = await main(process.argv.slice(2));
// Commands that stream (attach, watch, subscribe) return once done; nothing else should linger.
process.exit(status);
