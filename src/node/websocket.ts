/**
 * The node's optional WebSocket listener (`listen` in config.toml, or CODEWIRE_LISTEN): the same
 * requests as on the Unix socket, one per connection; control frames travel as text messages
 * and data as binary ones (ws-messages.ts).
 * Every connection must present the node's token (`Authorization: Bearer <token>`) before it is
 * upgraded; tokens are compared in constant time. Plain ws: put a TLS proxy in front for wss.
 */
import { MAX_PAYLOAD } from "../protocol/frame";
import { FramesToMessages, messageToFrame } from "../protocol/ws-messages";
import { listenerOptions, refusal } from "../sys/http";
import { sameSecret } from "../sys/secrets";
import { Connection } from "./connection";
import type { NodeContext } from "./context";
import { type ClientState, clientState, receive } from "./incoming";

export const WS_PATH = "/ws";

export interface ListenAddress {
  hostname: string;
  port: number;
}

/**
 * "host:port", "[v6]:port", ":port" or "port" (0: any free port; the log says which). Without a
 * host the listener stays on loopback: reaching beyond this machine has to be asked for by
 * naming the address (0.0.0.0 for all).
 */
export function parseListenAddress(spec: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d+)$/.exec(spec.trim()) ?? /^()()(\d+)$/.exec(spec.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`listen address ${JSON.stringify(spec)} is not host:port (for example 127.0.0.1:9100 or 0.0.0.0:9100)`);
  }
  return { hostname: m[1] || m[2] || "127.0.0.1", port };
}

export function listenWebSocket(address: ListenAddress, token: string, ctx: NodeContext) {
  return Bun.serve<ClientState, never>({
    hostname: address.hostname,
    port: address.port,
    ...listenerOptions("the node", "see node.log"),
    fetch(req, server) {
      const url = new URL(req.url);
      if (url.pathname !== WS_PATH) return refusal(404, "not_found", `nothing at ${url.pathname}`, `clients connect to ${WS_PATH}`);
      const auth = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "");
      if (!auth || !sameSecret(auth[1]!, token)) {
        return refusal(401, "unauthorized", "missing or wrong token", "use the token in the node's data directory (cat ~/.codewire/token on that machine)");
      }
      if (server.upgrade(req, { data: undefined as unknown as ClientState })) return undefined;
      return refusal(426, "upgrade_required", "this endpoint speaks WebSocket", "connect with `cw --server <url> <command>`");
    },
    websocket: {
      // One message carries one frame's payload at most.
      maxPayloadLength: MAX_PAYLOAD,
      open(ws) {
        ws.binaryType = "uint8array";
        const out = new FramesToMessages();
        ws.data = clientState(
          new Connection({
            write: (b) => {
              // send() returns -1 when it buffered the message under backpressure, 0 when dropped.
              for (const m of out.push(b)) if (ws.send(m) === 0) return 0;
              return b.length;
            },
            end: () => ws.close(1000),
            buffered: () => ws.getBufferedAmount(),
          }),
        );
      },
      message(ws, msg) {
        receive(ws.data, messageToFrame(typeof msg === "string" ? msg : (msg as Uint8Array)), ctx);
      },
      drain(ws) {
        ws.data.conn.drained();
      },
      close(ws) {
        ws.data?.conn.closedByPeer();
      },
    },
  });
}
