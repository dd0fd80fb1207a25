/** Browser sign-ins (src/web/signins.ts) with a clock the test moves: expiry, revocation, CSRF. */
import { describe, expect, test } from "bun:test";
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
