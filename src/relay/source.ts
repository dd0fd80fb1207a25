/**
 * Who is asking, for limits kept per source address (the device flow's pending requests). An
 * IPv6 caller usually holds a whole /64, so that is what counts as one address. Behind a
 * reverse proxy on the same machine (deploy/'s Caddy) every request comes from loopback: then
 * the last X-Forwarded-For entry, the one that proxy added, names the caller. A proxy elsewhere
 * looks like one caller; put it on the relay's machine.
 */
import { isIPv6 } from "node:net";

export function sourceAddress(peer: string | undefined, forwardedFor: string | null | undefined): string {
  let addr = peer ?? "unknown";
  if (isLoopback(addr) && forwardedFor) {
    const last = forwardedFor.split(",").pop()?.trim();
    if (last) addr = last;
  }
  return group(addr);
}

function isLoopback(addr: string): boolean {
  return addr === "::1" || addr.startsWith("127.") || addr.startsWith("::ffff:127.");
}

/** IPv4 as is (also when written as ::ffff:a.b.c.d); IPv6 by its first 64 bits. */
function group(addr: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (v4) return v4[1]!;
  if (!isIPv6(addr)) return addr;
  const [head = "", tail = ""] = addr.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const full = addr.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${full.slice(0, 4).map((h) => h.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
