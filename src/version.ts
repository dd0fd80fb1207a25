/** The version this build was stamped with (`--define CW_VERSION=...` in scripts/build.ts). */
import pkg from "../package.json" with { type: "json" };

declare const CW_VERSION: string | undefined;
export const VERSION: string = typeof CW_VERSION === "string" ? CW_VERSION : `${pkg.version}-dev`;
