/**
 * zod compiles fast parsers with `new Function` where it may; the page's CSP forbids eval, so it
 * may not. Told so, it does not try: its one try (caught) still made Chromium report a CSP
 * violation on every page. Imported before anything parses.
 */
import { z } from "zod";

z.config({ jitless: true });
