/**
 * A closed-loop HTTP/1.1 load generator for the relay-KV bench, shaped like redis-benchmark:
 * `clients` keep-alive connections, each with one request in flight (no pipelining, as
 * redis-benchmark without -P), the next sent when the previous answer has fully arrived.
 *
 * Why not fetch(): Bun's fetch spent 26-43 µs of CPU per request in this process, which on a
 * 2-core machine takes a core from the server it measures; redis-benchmark is a small C client
 * that spends a few µs. This writes pre-formatted request bytes to a socket and reads only the
 * status line and Content-Length of each answer, so the server's cost is what is measured.
 */

export interface LoadResult {
  /** Per request, in ms, in completion order. */
  latencies: number[];
  seconds: number;
  /** Answers per status code. */
  statuses: Map<number, number>;
}

export interface LoadOptions {
  /** http://host:port */
  url: string;
  clients: number;
  /** Requests per client. */
  perClient: number;
  /** The request client `c` makes as its `i`-th: the full HTTP/1.1 message, body included. */
  request: (c: number, i: number) => string;
}

const HEAD_END = Buffer.from("\r\n\r\n");

/** A request's bytes: method, path, headers (Host and Content-Length added), body. */
export function httpRequest(method: string, host: string, path: string, headers: Record<string, string>, body = ""): string {
  let s = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  if (body !== "" || method === "PUT" || method === "POST") s += `content-length: ${Buffer.byteLength(body)}\r\n`;
  return `${s}\r\n${body}`;
}

export async function httpLoad(opts: LoadOptions): Promise<LoadResult> {
  const { hostname, port } = new URL(opts.url);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: opts.clients }, (_, c) => oneClient(c)));
  return { latencies, seconds: (performance.now() - t0) / 1000, statuses };

  function oneClient(c: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let i = 0;
      let sentAt = 0;
      let buf: Buffer = Buffer.alloc(0);
      const send = (s: { write(d: string): number }) => {
        sentAt = performance.now();
        s.write(opts.request(c, i));
      };
      Bun.connect({
        hostname,
        port: Number(port),
        socket: {
          open: send,
          data(s, chunk) {
            buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
            // One answer at a time is in flight: parse it once it is whole.
            const end = buf.indexOf(HEAD_END);
            if (end < 0) return;
            const head = buf.subarray(0, end).toString("latin1");
            const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
            if (!len) return reject(new Error(`an answer without Content-Length: ${head}`));
            const total = end + 4 + Number(len[1]);
            if (buf.length < total) return;
            if (buf.length > total) return reject(new Error("more bytes than one answer: the server answered what was not asked"));
            buf = Buffer.alloc(0);
            const status = Number(head.slice(9, 12));
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            latencies.push(performance.now() - sentAt);
            if (++i === opts.perClient) {
              s.end();
              return resolve();
            }
            send(s);
          },
          close() {
            if (i < opts.perClient) reject(new Error(`client ${c}: the server closed the connection after ${i} answers`));
          },
          error(_s, e) {
            reject(e);
          },
        },
      }).catch(reject);
    });
  }
}
