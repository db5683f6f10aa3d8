/**
 * Fails if tslab changes under kernel/display.ts: the version, the internals it loads, and the
 * behaviour of the executor's console it relies on (last expression -> log(value); thrown values
 * and diagnostics -> error(...) in a known format).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TSLAB_VERSION, checkTslabContract, loadTslab } from "../kernel/display";

describe("tslab contract of kernel/display.ts", () => {
  it("tslab is the version the display layer was written against, with the internals it uses", () => {
    const t = loadTslab();
    expect(t.version).toBe(TSLAB_VERSION);
    expect(() => checkTslabContract({ ...t, version: "9.9.9" })).toThrow(
      /version is 9\.9\.9, not 1\.0\.22/,
    );
    expect(() => checkTslabContract({ ...t, ZmqServer: undefined })).toThrow(
      /jupyter\.ZmqServer missing/,
    );
  });

  // One converter for both executions below (creating one is most of this file's time).
  const logged: unknown[][] = [];
  const errors: unknown[][] = [];
  let ex: ReturnType<ReturnType<typeof loadTslab>["createExecutor"]>;
  beforeAll(() => {
    const t = loadTslab();
    const conv = t.createConverter({ isJS: false, isBrowser: false });
    const convs = { node: conv, browser: conv, close: () => conv.close() };
    ex = t.createExecutor(process.cwd(), convs, {
      log: (...a: unknown[]) => logged.push(a),
      error: (...a: unknown[]) => errors.push(a),
    });
  });
  afterAll(() => ex.close());

  it("the executor calls console.log with the last expression and console.error with errors and diagnostics", async () => {
    logged.length = 0;
    errors.length = 0;
    expect(await ex.execute("const marker = { m: 1 };\nmarker")).toBe(true);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toHaveLength(1);
    expect(logged[0][0]).toEqual({ m: 1 });

    expect(await ex.execute('const bad: number = "s";')).toBe(false);
    expect(errors).toEqual([
      ["%s%d:%d - %s", "", 1, 7, "Type 'string' is not assignable to type 'number'."],
    ]);

    errors.length = 0;
    expect(await ex.execute('throw new TypeError("t")')).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0][0]).toBeInstanceOf(Error);
    expect((errors[0][0] as Error).message).toBe("t");

    errors.length = 0;
    expect(await ex.execute('await Promise.reject(new Error("async"))')).toBe(false);
    expect((errors[0][0] as Error).message).toBe("async");
  });

  it("tslab's bundled TypeScript compiles a cell importing everything the library exports", async () => {
    logged.length = 0;
    errors.length = 0;
    const ok = await ex.execute(
      'import * as lab from "execmem-lab";\n' +
        "const b: lab.MimeBundle = lab.summaryBundle({ argument: 'a', claim: 'c', finding: 'f' });\n" +
        "Object.keys(lab).length + Object.keys(b).length",
    );
    expect(errors).toEqual([]);
    expect(ok).toBe(true);
    expect(logged[0][0]).toBeGreaterThan(10);
  });
});
