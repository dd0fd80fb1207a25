/** Browser sign-ins (src/web/signins.ts) with a clock the test moves: expiry, revocation, CSRF. */
import { describe, expect, test } from "bun:test";
import { CODE_TTL_MS, CodeSignIns } from "../src/web/code-signin";
import { cookieValue, SIGNIN_TTL_MS, SignIns } from "../src/web/signins";

describe("sign-ins", () => {
  test("a sign-in lasts its time and no longer, and signing out ends it at once", () => {
    let now = 1_000_000;
    const s = new SignIns(() => now);
    const a = s.create();
    const b = s.create();
    expect(s.get(a.id)?.csrf).toBe(a.signIn.csrf);
    now += SIGNIN_TTL_MS - 1;
    expect(s.get(a.id)).toBeDefined();
    s.revoke(b.id);
    expect(s.get(b.id)).toBeUndefined();
    now += 1;
    expect(s.get(a.id)).toBeUndefined();
    expect(s.get(undefined)).toBeUndefined();
    expect(s.get("made-up")).toBeUndefined();
  });

  test("the CSRF token is the sign-in's own; a cookie is read from the header by name", () => {
    const s = new SignIns();
    const { signIn } = s.create();
    const other = s.create().signIn;
    expect(SignIns.csrfOk(signIn, signIn.csrf)).toBe(true);
    expect(SignIns.csrfOk(signIn, other.csrf)).toBe(false);
    expect(SignIns.csrfOk(signIn, "")).toBe(false);
    expect(SignIns.csrfOk(signIn, undefined)).toBe(false);
    expect(cookieValue("a=1; cw_session=xyz; b=2", "cw_session")).toBe("xyz");
    expect(cookieValue("not_cw_session=xyz", "cw_session")).toBeUndefined();
    expect(cookieValue(null, "cw_session")).toBeUndefined();
  });
});

describe("sign-in codes", () => {
  test("a code is approved once, polled as approved once, and expires unapproved", () => {
    let now = 5_000_000;
    const codes = new CodeSignIns(() => now);
    const a = codes.start()!;
    const b = codes.start()!;
    expect(a.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(codes.poll(a.pollId)).toBe("pending");
    expect(codes.approve("ZZZZ-ZZZZ")).toBe(false);
    expect(codes.approve(a.code.toLowerCase().replace("-", ""))).toBe(true);
    expect(codes.approve(a.code)).toBe(false);
    expect(codes.poll(a.pollId)).toBe("approved");
    expect(codes.poll(a.pollId)).toBe("unknown");
    now += CODE_TTL_MS;
    expect(codes.approve(b.code)).toBe(false);
    expect(codes.poll(b.pollId)).toBe("unknown");
    const c = codes.start()!;
    now += CODE_TTL_MS;
    expect(codes.poll(c.pollId)).toBe("expired");
  });

  test("only so many codes wait at once", () => {
    const codes = new CodeSignIns();
    const started = Array.from({ length: 60 }, () => codes.start());
    expect(started.filter(Boolean).length).toBe(50);
  });
});
