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

const cases: [what: string, text: string, at: [number, number], msg: RegExp][] = [
  ["unknown statement", file({ p0: "  foo(x);" }), [8, 3], /unknown statement foo\(\)/],
  [
    "misspelt statement",
    file({ p0: "  smp_store_relase(x, 1);" }),
    [8, 3],
    /did you mean smp_store_release\?/,
  ],
  [
    "unknown region",
    file({ p0: "  text_write(g, new);" }),
    [8, 14],
    /text_write: unknown code region "g"/,
  ],
  [
    "unknown version",
    file({ p0: "  text_write(f, newer);" }),
    [8, 17],
    /"newer" is not a version of f \(old, new\)/,
  ],
  [
    "line out of range",
    file({ p0: "  text_write(f+2, new);" }),
    [8, 14],
    /f\+2: line out of range \(f has 2 lines\)/,
  ],
  ["unknown location", file({ p0: "  WRITE_ONCE(y, 1);" }), [8, 14], /unknown location "y"/],
  [
    "a region where a location goes",
    file({ p0: "  WRITE_ONCE(f, 1);" }),
    [8, 14],
    /"f" is a code region, not a data location/,
  ],
  [
    "wrong arity",
    file({ p0: "  WRITE_ONCE(x);" }),
    [8, 3],
    /WRITE_ONCE takes 2 arguments, got 1: WRITE_ONCE\(x, value\)/,
  ],
  [
    "wrong arity of set_pte",
    file({ p0: "  set_pte(f);" }),
    [8, 3],
    /set_pte takes 2 or 3 arguments, got 1/,
  ],
  [
    "a value that is not a number",
    file({ p0: "  WRITE_ONCE(x, y);" }),
    [8, 17],
    /WRITE_ONCE value: expected a number, found "y"/,
  ],
  [
    "instruction of another arch",
    file({ p0: "  isb();" }),
    [8, 3],
    /ISB is not an instruction of x86-64 \(it is arm64's\)/,
  ],
  [
    "instruction of another arch, with an address",
    file({ p0: "  dc_cvau(f);" }),
    [8, 3],
    /DC CVAU is not an instruction of x86-64/,
  ],
  [
    "instruction of another variant",
    file({ p0: "  erets();" }),
    [8, 3],
    /ERETS is not an instruction of x86-64/,
  ],
  [
    "routine the arch lacks",
    file({ arch: "arm64", p0: "  text_poke_sync();" }),
    [8, 3],
    /text_poke_sync\(\) is not available on arm64/,
  ],
  [
    "instruction form that does not exist",
    file({ p0: "  dsb(foo);" }),
    [8, 3],
    /dsb\(foo\): no such instruction; known forms: DSB ISH/,
  ],
  [
    "address given to an instruction without one",
    file({ p0: "  cpuid(f);" }),
    [8, 3],
    /CPUID takes no address/,
  ],
  [
    "a statement that yields a value",
    file({ p0: "  READ_ONCE(x);" }),
    [8, 3],
    /READ_ONCE\(\) yields a value: assign it to a register/,
  ],
  [
    "assigning what yields nothing",
    file({ p0: "  int r1;\n  r1 = cpuid();" }),
    [9, 3],
    /cpuid\(\) yields no value to assign to r1/,
  ],
  [
    "plain C assignment",
    file({ p0: "  x = 1;" }),
    [8, 3],
    /"x = 1" is not a statement of the format: store with WRITE_ONCE\(x, 1\)/,
  ],
  ["if", file({ p0: "  if (x) { cpuid(); }" }), [8, 3], /"if" is not supported/],
  [
    "missing semicolon",
    file({ p0: "  WRITE_ONCE(x, 1)\n  cpuid();" }),
    [9, 3],
    /syntax error: expected ";"; found "cpuid"/,
  ],
  [
    "spin-wait on two values",
    file({
      p0: "  WRITE_ONCE(x, 1);\n  WRITE_ONCE(x, 2);",
      p1: "{ int r0; while (!READ_ONCE(x)); r0 = f(); }",
    }),
    [12, 11],
    /x may become 1 or 2/,
  ],
  [
    "spin-wait body",
    file({
      p1: "{ int r0; while (!READ_ONCE(x)) cpuid(); r0 = f(); }",
      p0: "WRITE_ONCE(x, 1);",
    }),
    [11, 33],
    /body of a spin-wait may only be cpu_relax\(\)/,
  ],
  ["missing C line", "arch x86-64\n{ }\n", [1, 1], /a scenario file starts with "C NAME"/],
  [
    "missing arch",
    file().replace("arch x86-64\n", ""),
    [1, 1],
    /missing "arch NAME" line after "C t"/,
  ],
  [
    "unknown arch",
    file({ arch: "x86-65" }),
    [2, 6],
    /unknown architecture "x86-65" \(known: x86-64, .*\) \(did you mean x86-64\?\)/,
  ],
  [
    "bad Result:",
    file({ head: "(* Result: Maybe *)\n" }),
    [3, 12],
    /Result: must be Never, Sometimes or Always, found "Maybe"/,
  ],
  [
    "code without versions",
    file({ init: "  x = 0; code f[2] = old;" }),
    [4, 15],
    /code f: list its program versions/,
  ],
  [
    "content not a version",
    file({ init: "  x = 0; code f[2] = older versions(old, new);" }),
    [4, 22],
    /initial content "older" is not one of its versions/,
  ],
  [
    "per-line content count",
    file({ init: "  x = 0; code f[2] = {old} versions(old, new);" }),
    [4, 22],
    /1 initial lines given for 2 lines/,
  ],
  [
    "unknown attribute",
    file({ init: "  x = 0; code f[2] = old versions(old, new) colour(red);" }),
    [4, 45],
    /unknown attribute colour\(...\) of code f/,
  ],
  [
    "unknown page",
    file({ init: "  x = 0; code f[2] = old versions(old, new); page g = RX;" }),
    [4, 51],
    /unknown page "g"/,
  ],
  [
    "bad permissions",
    file({ p0: "  set_pte(f, RWXY);" }),
    [8, 14],
    /set_pte: unknown permissions "RWXY"/,
  ],
  ["unknown frame", file({ p0: "  set_pte(f, RX, f3);" }), [8, 18], /set_pte: unknown frame "f3"/],
  [
    "frame without like",
    file({ init: "  x = 0; code f[2] = old versions(old, new); frame f2 = trap;" }),
    [4, 46],
    /frame f2: say which page's layout it has, like\(page\)/,
  ],
  [
    "duplicate declaration",
    file({ init: "  x = 0; code x = old versions(old);" }),
    [4, 15],
    /"x" is already declared as a data location/,
  ],
  [
    "processes out of order",
    file().replace("P1(int", "P2(int"),
    [10, 1],
    /expected P1 here, found P2/,
  ],
  [
    "speculate for a missing process",
    file({ head: "speculate P3 f\n" }),
    [3, 11],
    /speculate: P3 is not a process of this file/,
  ],
  [
    "speculate an unknown region",
    file({ head: "speculate P1 g\n" }),
    [3, 14],
    /speculate P1: unknown code region "g"/,
  ],
  ["condition syntax", file({ cond: "exists (1:r0=)" }), [13, 14], /expected a value for 1:r0/],
  [
    "condition on a register nobody assigns",
    file({ cond: "exists (1:r0=new /\\ 1:r9=new)" }),
    [13, 21],
    /the condition reads 1:r9, which P1 never assigns \(it has 1:r0\)/,
  ],
  [
    "condition value that is no outcome",
    file({ cond: "exists (1:r0=Stale)" }),
    [13, 14],
    /"Stale" is not one of new, stale, .* \(did you mean stale\?\)/,
  ],
  [
    "condition on multiple lines",
    file({ cond: "exists (1:r0=new \\/\n        1:r0=stael)" }),
    [14, 14],
    /"stael"/,
  ],
  [
    "text alias with a frame (from the machine's compile)",
    file({
      init: "  x = 0; code f[2] = old versions(old, new); frame f2 = trap like(f);",
      p0: "  text_write(f, new, text, f2);",
    }),
    [8, 3],
    /a write through the text alias goes to the mapped frame/,
  ],
];

describe("format errors: file:line:column and the name of what is wrong", () => {
  it.each(cases)("%s", (_what, text, at, msg) => {
    const e = err(text);
    expect(e.reason).toMatch(msg);
    expect([e.line, e.column], e.message).toEqual(at);
    expect(e.file).toBe("t.litmus");
    expect(e.message).toBe(`t.litmus:${at[0]}:${at[1]}: ${e.reason}`);
  });

  it("the default file name", () => {
    expect(() => parseScenario("C t\n{ }\n")).toThrow(/^<scenario>:1:1: missing "arch NAME"/);
  });

  it("an empty file", () => {
    expect(() => parseScenario("  \n", "e.litmus")).toThrow("e.litmus:1:1: empty file");
  });
});
