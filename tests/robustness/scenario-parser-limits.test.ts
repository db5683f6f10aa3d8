/**
 * The scenario parser on large and hostile files: linear time and memory, nesting refused with
 * a position, limits (CPUs, registers, values) reported where they are exceeded.
 */
import { describe, expect, it } from "vitest";
import { compile, parseScenario } from "../../lib";
import { formatErrorOf } from "../support/format-error";

const err = formatErrorOf;

/** A valid file whose P0 repeats one statement until the text is `bytes` long. */
export function bigScenario(bytes: number): string {
  const stmt = "  WRITE_ONCE(flag, 1);\n";
  const head =
    "C big\narch x86-64\n{ flag = 0; code f[2] = old versions(old, new); }\nP0(int *flag)\n{\n";
  const tail =
    "}\nP1(int *flag)\n{\n  int r0;\n  while (!smp_load_acquire(flag)) cpu_relax();\n  r0 = f();\n}\nexists (1:r0=stale)\n";
  return (
    head +
    stmt.repeat(Math.max(1, Math.ceil((bytes - head.length - tail.length) / stmt.length))) +
    tail
  );
}

describe("scenario parser: size", () => {
  it("parses a 2 MB file in time linear in its size", { timeout: 60_000 }, () => {
    // CPU time, not wall time: the machine running the tests may be busy with other work.
    const cpu = (f: () => void) => {
      const c0 = process.cpuUsage();
      f();
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1000;
    };
    const small = bigScenario(256 * 1024);
    const big = bigScenario(2 * 1024 * 1024);
    // Read as explore() reads a file: parsed, then compiled.
    const read = (t: string) => compile(parseScenario(t)).cpus[0].steps.length;
    read(small); // warm up
    const tSmall = cpu(() => read(small));
    let statements = 0;
    const tBig = cpu(() => (statements = read(big)));
    expect(statements).toBeGreaterThan(80_000);
    // 8 times the text: linear is about 8 times the time; quadratic would be 64.
    expect(tBig).toBeLessThan(Math.max(tSmall, 20) * 24);
    // The figure npm run bench reports (parse.mjs) is about 0.5 s per MB.
    expect(tBig).toBeLessThan(2 * 2000);
  });
});

describe("scenario parser: nesting", () => {
  const blocks = (d: number) =>
    `C deep\narch x86-64\n{ x = 0; }\nP0(int *x)\n{\n${"{".repeat(d)} WRITE_ONCE(x, 1); ${"}".repeat(d)}\n}\nexists (x=1)\n`;
  const conds = (d: number) =>
    `C deep\narch x86-64\n{ x = 0; }\nP0(int *x)\n{\n  WRITE_ONCE(x, 1);\n}\nexists (${"(".repeat(d)}x=1${")".repeat(d)})\n`;

  it("blocks 50 deep parse; 1000 and 100000 deep are refused with a position", () => {
    expect(parseScenario(blocks(50)).cpus[0].program).toHaveLength(1);
    for (const d of [1000, 100_000]) {
      const e = err(blocks(d));
      expect(e.message).toBe("t.litmus:6:100: blocks nested more than 100 deep");
    }
  });

  it("conditions 50 deep parse; 1000 and 100000 deep are refused with a position", () => {
    expect(parseScenario(conds(50)).condition).toMatch(/^exists/);
    for (const d of [1000, 100_000]) {
      const e = err(conds(d));
      expect(e.message).toMatch(
        /^t\.litmus:8:\d+: the condition nests "~" and parentheses more than 100 deep$/,
      );
    }
  });

  it("a condition of 100000 terms parses (a balanced tree, not a deep one)", () => {
    const text = `C wide\narch x86-64\n{ x = 0; }\nP0(int *x)\n{\n  WRITE_ONCE(x, 1);\n}\nexists (${Array(100_000).fill("x=1").join(" /\\ ")})\n`;
    expect(parseScenario(text).condition).toMatch(/^exists/);
  });
});

describe("scenario parser: limits where they are exceeded", () => {
  const proc = (i: number) => `P${i}(int *x)\n{\n  WRITE_ONCE(x, 1);\n}\n`;

  it("a ninth process: the error points at it", () => {
    const text = `C many\narch x86-64\n{ x = 0; }\n${Array.from({ length: 9 }, (_, i) => proc(i)).join("")}exists (x=1)\n`;
    const e = err(text);
    expect([e.line, e.column]).toEqual([4 + 8 * 4, 1]);
    expect(e.reason).toBe("P8: at most 8 processes (CPUs) are supported, this file has 9");
  });

  it("a seventeenth register: the error points at its assignment", () => {
    const loads = Array.from({ length: 17 }, (_, i) => `  r${i} = READ_ONCE(x);`).join("\n");
    const text = `C regs\narch x86-64\n{ x = 0; }\nP0(int *x)\n{\n${loads}\n}\nexists (x=1)\n`;
    const e = err(text);
    expect([e.line, e.column]).toEqual([6 + 16, 3]);
    expect(e.reason).toBe("P0: register r16 is one too many: at most 16 registers per process");
  });

  it("values: the parser's range is the model's, 0..99", () => {
    const at = (init: string, p0: string) =>
      `C v\narch x86-64\n{ ${init} }\nP0(int *x)\n{\n  ${p0}\n}\nexists (x=1)\n`;
    expect(parseScenario(at("x = 99;", "WRITE_ONCE(x, 99);")).data.x).toBe(99);
    let e = err(at("x = 100;", "WRITE_ONCE(x, 1);"));
    expect([e.line, e.column, e.reason]).toEqual([
      3,
      7,
      'data location "x": initial value must be 0..99, got 100',
    ]);
    e = err(at("x = 0;", "WRITE_ONCE(x, 200);"));
    expect([e.line, e.column]).toEqual([6, 17]);
    expect(e.reason).toMatch(/must be 0\.\.99, got 200/);
  });
});
