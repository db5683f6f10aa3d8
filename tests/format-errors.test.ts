/** Every error of the scenario format says file:line:column and names what is wrong. */
import { describe, expect, it } from "vitest";
import { parseScenario } from "../lib";
import { formatErrorOf } from "./support/format-error";

/**
 * A small file; `p0`/`p1` are process bodies (line 8 is P0's first statement, P1 starts at
 * line 10 and its first statement is line 11), the condition is on line 13.
 */
function file(
  o: { arch?: string; init?: string; p0?: string; p1?: string; cond?: string; head?: string } = {},
): string {
  return [
    "C t",
    `arch ${o.arch ?? "x86-64"}`,
    `${o.head ?? ""}{`,
    o.init ?? "  x = 0; code f[2] = old versions(old, new);",
    "}",
    "P0(int *x)",
    "{",
    o.p0 ?? "  text_write(f, new);",
    "}",
    "P1(int *x)",
    o.p1 ?? "{ int r0; r0 = f(); }",
    "",
    o.cond ?? "exists (1:r0=stale)",
    "",
  ].join("\n");
}

const err = formatErrorOf;

const cases: { what: string; text: string; at: [number, number]; msg: RegExp }[] = [
  {
    what: "unknown statement",
    text: file({ p0: "  foo(x);" }),
    at: [8, 3],
    msg: /unknown statement foo\(\)/,
  },
  {
    what: "misspelt statement",
    text: file({ p0: "  smp_store_relase(x, 1);" }),
    at: [8, 3],
    msg: /did you mean smp_store_release\?/,
  },
  {
    what: "unknown region",
    text: file({ p0: "  text_write(g, new);" }),
    at: [8, 14],
    msg: /text_write: unknown code region "g"/,
  },
  {
    what: "unknown version",
    text: file({ p0: "  text_write(f, newer);" }),
    at: [8, 17],
    msg: /"newer" is not a version of f \(old, new\)/,
  },
  {
    what: "line out of range",
    text: file({ p0: "  text_write(f+2, new);" }),
    at: [8, 14],
    msg: /f\+2: line out of range \(f has 2 lines\)/,
  },
  {
    what: "unknown location",
    text: file({ p0: "  WRITE_ONCE(y, 1);" }),
    at: [8, 14],
    msg: /unknown location "y"/,
  },
  {
    what: "a region where a location goes",
    text: file({ p0: "  WRITE_ONCE(f, 1);" }),
    at: [8, 14],
    msg: /"f" is a code region, not a data location/,
  },
  {
    what: "wrong arity",
    text: file({ p0: "  WRITE_ONCE(x);" }),
    at: [8, 3],
    msg: /WRITE_ONCE takes 2 arguments, got 1: WRITE_ONCE\(x, value\)/,
  },
  {
    what: "wrong arity of set_pte",
    text: file({ p0: "  set_pte(f);" }),
    at: [8, 3],
    msg: /set_pte takes 2 or 3 arguments, got 1/,
  },
  {
    what: "a value that is not a number",
    text: file({ p0: "  WRITE_ONCE(x, y);" }),
    at: [8, 17],
    msg: /WRITE_ONCE value: expected a number, found "y"/,
  },
  {
    what: "instruction of another arch",
    text: file({ p0: "  isb();" }),
    at: [8, 3],
    msg: /ISB is not an instruction of x86-64 \(it is arm64's\)/,
  },
  {
    what: "instruction of another arch, with an address",
    text: file({ p0: "  dc_cvau(f);" }),
    at: [8, 3],
    msg: /DC CVAU is not an instruction of x86-64/,
  },
  {
    what: "instruction of another variant",
    text: file({ p0: "  erets();" }),
    at: [8, 3],
    msg: /ERETS is not an instruction of x86-64/,
  },
  {
    what: "routine the arch lacks",
    text: file({ arch: "arm64", p0: "  text_poke_sync();" }),
    at: [8, 3],
    msg: /text_poke_sync\(\) is not available on arm64/,
  },
  {
    what: "instruction form that does not exist",
    text: file({ p0: "  dsb(foo);" }),
    at: [8, 3],
    msg: /dsb\(foo\): no such instruction; known forms: DSB ISH/,
  },
  {
    what: "address given to an instruction without one",
    text: file({ p0: "  cpuid(f);" }),
    at: [8, 3],
    msg: /CPUID takes no address/,
  },
  {
    what: "a statement that yields a value",
    text: file({ p0: "  READ_ONCE(x);" }),
    at: [8, 3],
    msg: /READ_ONCE\(\) yields a value: assign it to a register/,
  },
  {
    what: "assigning what yields nothing",
    text: file({ p0: "  int r1;\n  r1 = cpuid();" }),
    at: [9, 3],
    msg: /cpuid\(\) yields no value to assign to r1/,
  },
  {
    what: "plain C assignment",
    text: file({ p0: "  x = 1;" }),
    at: [8, 3],
    msg: /"x = 1" is not a statement of the format: store with WRITE_ONCE\(x, 1\)/,
  },
  {
    what: "if",
    text: file({ p0: "  if (x) { cpuid(); }" }),
    at: [8, 3],
    msg: /"if" is not supported/,
  },
  {
    what: "missing semicolon",
    text: file({ p0: "  WRITE_ONCE(x, 1)\n  cpuid();" }),
    at: [9, 3],
    msg: /syntax error: expected ";"; found "cpuid"/,
  },
  {
    what: "spin-wait on two values",
    text: file({
      p0: "  WRITE_ONCE(x, 1);\n  WRITE_ONCE(x, 2);",
      p1: "{ int r0; while (!READ_ONCE(x)); r0 = f(); }",
    }),
    at: [12, 11],
    msg: /x may become 1 or 2/,
  },
  {
    what: "spin-wait body",
    text: file({
      p1: "{ int r0; while (!READ_ONCE(x)) cpuid(); r0 = f(); }",
      p0: "WRITE_ONCE(x, 1);",
    }),
    at: [11, 33],
    msg: /body of a spin-wait may only be cpu_relax\(\)/,
  },
  {
    what: "missing C line",
    text: "arch x86-64\n{ }\n",
    at: [1, 1],
    msg: /a scenario file starts with "C NAME"/,
  },
  {
    what: "missing arch",
    text: file().replace("arch x86-64\n", ""),
    at: [1, 1],
    msg: /missing "arch NAME" line after "C t"/,
  },
  {
    what: "unknown arch",
    text: file({ arch: "x86-65" }),
    at: [2, 6],
    msg: /unknown architecture "x86-65" \(known: x86-64, .*\) \(did you mean x86-64\?\)/,
  },
  {
    what: "bad Result:",
    text: file({ head: "(* Result: Maybe *)\n" }),
    at: [3, 12],
    msg: /Result: must be Never, Sometimes or Always, found "Maybe"/,
  },
  {
    what: "code without versions",
    text: file({ init: "  x = 0; code f[2] = old;" }),
    at: [4, 15],
    msg: /code f: list its program versions/,
  },
  {
    what: "content not a version",
    text: file({ init: "  x = 0; code f[2] = older versions(old, new);" }),
    at: [4, 22],
    msg: /initial content "older" is not one of its versions/,
  },
  {
    what: "per-line content count",
    text: file({ init: "  x = 0; code f[2] = {old} versions(old, new);" }),
    at: [4, 22],
    msg: /1 initial lines given for 2 lines/,
  },
  {
    what: "unknown attribute",
    text: file({ init: "  x = 0; code f[2] = old versions(old, new) colour(red);" }),
    at: [4, 45],
    msg: /unknown attribute colour\(...\) of code f/,
  },
  {
    what: "unknown page",
    text: file({ init: "  x = 0; code f[2] = old versions(old, new); page g = RX;" }),
    at: [4, 51],
    msg: /unknown page "g"/,
  },
  {
    what: "bad permissions",
    text: file({ p0: "  set_pte(f, RWXY);" }),
    at: [8, 14],
    msg: /set_pte: unknown permissions "RWXY"/,
  },
  {
    what: "unknown frame",
    text: file({ p0: "  set_pte(f, RX, f3);" }),
    at: [8, 18],
    msg: /set_pte: unknown frame "f3"/,
  },
  {
    what: "frame without like",
    text: file({ init: "  x = 0; code f[2] = old versions(old, new); frame f2 = trap;" }),
    at: [4, 46],
    msg: /frame f2: say which page's layout it has, like\(page\)/,
  },
  {
    what: "duplicate declaration",
    text: file({ init: "  x = 0; code x = old versions(old);" }),
    at: [4, 15],
    msg: /"x" is already declared as a data location/,
  },
  {
    what: "processes out of order",
    text: file().replace("P1(int", "P2(int"),
    at: [10, 1],
    msg: /expected P1 here, found P2/,
  },
  {
    what: "speculate for a missing process",
    text: file({ head: "speculate P3 f\n" }),
    at: [3, 11],
    msg: /speculate: P3 is not a process of this file/,
  },
  {
    what: "speculate an unknown region",
    text: file({ head: "speculate P1 g\n" }),
    at: [3, 14],
    msg: /speculate P1: unknown code region "g"/,
  },
  {
    what: "condition syntax",
    text: file({ cond: "exists (1:r0=)" }),
    at: [13, 14],
    msg: /expected a value for 1:r0/,
  },
  {
    what: "condition on a register nobody assigns",
    text: file({ cond: "exists (1:r0=new /\\ 1:r9=new)" }),
    at: [13, 21],
    msg: /the condition reads 1:r9, which P1 never assigns \(it has 1:r0\)/,
  },
  {
    what: "condition value that is no outcome",
    text: file({ cond: "exists (1:r0=Stale)" }),
    at: [13, 14],
    msg: /"Stale" is not one of new, stale, .* \(did you mean stale\?\)/,
  },
  {
    what: "condition on multiple lines",
    text: file({ cond: "exists (1:r0=new \\/\n        1:r0=stael)" }),
    at: [14, 14],
    msg: /"stael"/,
  },
  {
    what: "text alias with a frame (from the machine's compile)",
    text: file({
      init: "  x = 0; code f[2] = old versions(old, new); frame f2 = trap like(f);",
      p0: "  text_write(f, new, text, f2);",
    }),
    at: [8, 3],
    msg: /a write through the text alias goes to the mapped frame/,
  },
];

describe("format errors: file:line:column and the name of what is wrong", () => {
  for (const c of cases) {
    it(c.what, () => {
      const e = err(c.text);
      expect(e.reason).toMatch(c.msg);
      expect([e.line, e.column], e.message).toEqual(c.at);
      expect(e.file).toBe("t.litmus");
      expect(e.message).toBe(`t.litmus:${c.at[0]}:${c.at[1]}: ${e.reason}`);
    });
  }

  it("the default file name", () => {
    expect(() => parseScenario("C t\n{ }\n")).toThrow(/^<scenario>:1:1: missing "arch NAME"/);
  });

  it("an empty file", () => {
    expect(() => parseScenario("  \n", "e.litmus")).toThrow("e.litmus:1:1: empty file");
  });
});
