/** Where the node's files are: the paths every command resolves from the data directory. */
import { describe, expect, test } from "bun:test";
import { dataDir, pathsFor } from "../src/config/paths";

describe("data directory paths", () => {
  test("a data directory given with trailing slashes gives no doubled slash", () => {
    expect(pathsFor("/srv/cw").socket).toBe("/srv/cw/codewire.sock");
    expect(pathsFor("/srv/cw/").socket).toBe("/srv/cw/codewire.sock");
    expect(pathsFor("/srv/cw///").pid).toBe("/srv/cw/codewire.pid");
    expect(pathsFor("/srv/cw/").sessionDir(12)).toBe("/srv/cw/sessions/12");
  });

  test("the root directory itself", () => {
    expect(pathsFor("/").socket).toBe("/codewire.sock");
    expect(pathsFor("/").root).toBe("/");
  });

  test("CODEWIRE_HOME overrides the data directory; otherwise ~/.codewire", () => {
    const saved = { CODEWIRE_HOME: process.env.CODEWIRE_HOME, HOME: process.env.HOME };
    try {
      process.env.CODEWIRE_HOME = "/tmp/cw-paths-test";
      expect(dataDir()).toBe("/tmp/cw-paths-test");
      delete process.env.CODEWIRE_HOME;
      process.env.HOME = "/home/someone/";
      expect(dataDir()).toBe("/home/someone/.codewire");
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
