/**
 * Fails if tslab changes under kernel/display.ts: the version, the internals it loads, and the
 * behaviour of the executor's console it relies on (last expression -> log(value); thrown values
 * and diagnostics -> error(...) in a known format).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  TSLAB_VERSION,
  checkTslabContract,
  createCellConverter,
  loadTslab,
} from "../kernel/display";
import { expandShorthand } from "../kernel/shorthand";

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
    expect(() => checkTslabContract({ ...t, typescript: undefined })).toThrow(
      /typescript\.createSourceFile missing/,
    );
  });

  // One converter for both executions below (creating one is most of this file's time).
  const logged: unknown[][] = [];
  const errors: unknown[][] = [];
  let ex: ReturnType<ReturnType<typeof loadTslab>["createExecutor"]>;
  beforeAll(() => {
    const t = loadTslab();
    const conv = createCellConverter(t, false);
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

  it("a shorthand property naming an earlier cell's variable refers to it", async () => {
    logged.length = 0;
    errors.length = 0;
    expect(await ex.execute("const cpus = 3;\nlet seen = 0;")).toBe(true);
    expect(await ex.execute("const o = { cpus, twice: 2 * cpus };\no")).toBe(true);
    expect(await ex.execute("({ seen = 9 } = { seen: 5 });\nseen")).toBe(true);
    expect(errors).toEqual([]);
    expect(logged.map((l) => l[0])).toEqual([{ cpus: 3, twice: 6 }, 5]);
    // A diagnostic keeps the cell's own positions: `bad` is at column 27 as written.
    expect(await ex.execute('const s = { cpus }; const bad: number = "s";')).toBe(false);
    expect(errors).toEqual([
      ["%s%d:%d - %s", "", 1, 27, "Type 'string' is not assignable to type 'number'."],
    ]);
  });

  it("expandShorthand writes out each shorthand property and leaves everything else as written", () => {
    const ts = loadTslab().typescript;
    const src = "const { a } = o;\nf({ a, b = 1, ...c, d: e }, { g });\nexport { a };";
    expect(expandShorthand(ts, src)).toBe(
      "const { a } = o;\nf({ a: a, b: b = 1, ...c, d: e }, { g: g });\nexport { a };",
    );
    expect(expandShorthand(ts, "x = { y: 1 }")).toBe("x = { y: 1 }");
  });
});
