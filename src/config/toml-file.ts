/** Reading the small TOML files of the data directory (servers.toml, relay.toml) against a schema. */
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import type { z } from "zod";

/** A file that exists but cannot be used; the message names the file and what is wrong. */
export class ConfigFileError extends Error {}

/** The file's content checked against `schema`, or undefined when there is no such file. */
export function readTomlFile<S extends z.ZodType>(path: string, schema: S): z.infer<S> | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new ConfigFileError(`${path}: ${(e as Error).message}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new ConfigFileError(`${path}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return r.data;
}
