/** Keys, fingerprints, faces, cards, claims, sealing and replay checks: everything that touches key material. */
export * from "./card";
export * from "./claim";
export * from "./keys";
export * from "./nickname";
export * from "./replay";
export * from "./seal";
export * from "./session-proof";
export { b64u, unb64u } from "./encoding";
