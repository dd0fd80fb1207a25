/**
 * Who may use the web app: a live sign-in (the cookie), and for anything that changes state,
 * a request from the app's own origin carrying the sign-in's CSRF token. The WebSocket, which
 * carries no custom header, must come from the app's own origin (no cross-site WebSocket
 * hijacking); its cookie is SameSite=Strict besides.
 */
import { SESSION_COOKIE } from "./api";
import { cookieValue, type SignIn, type SignInBook } from "./signins";

/** The cookie's value on `req`. */
export function signInId(req: Request): string | undefined {
  return cookieValue(req.headers.get("cookie"), SESSION_COOKIE);
}

export function signedIn(req: Request, signIns: SignInBook): Promise<SignIn | undefined> {
  return signIns.get(signInId(req));
}

/**
 * Whether the request's Origin is the host it was sent to. A browser sends Origin with every
 * POST and WebSocket; a missing one passes only where `required` is false (plain GETs).
 */
export function sameOrigin(req: Request, required: boolean): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return !required;
  const host = req.headers.get("host") ?? new URL(req.url).host;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The browser's WebSocket to a node: signed in, from the app's origin. */
export async function webSocketAllowed(req: Request, signIns: SignInBook): Promise<boolean> {
  return sameOrigin(req, true) && (await signedIn(req, signIns)) !== undefined;
}
