/**
 * Property-based fuzzing of the two parsers: random text and mutated real files give a result
 * or a positioned FormatError / LitmusError, never another exception, each in bounded time.
 */
import { readdirSync, readFileSync } from "fs";
import { join } from "path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compile,
  FormatError,
  LitmusError,
  parseLitmus,
  parseScenario,
  translate,
} from "../../lib";

const SCENARIOS = join(__dirname, "..", "scenarios");
const scenarioSeeds = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith(".litmus"))
  .map((f) => readFileSync(join(SCENARIOS, f), "utf8"));

const litmusSeeds = [
  `AArch64 CTR
{}
 P0             ;
MRS x0, CTR_EL0 ;
RBIT x0, x0     ;
TST x0, #4      ;
CSET w1, NE     ;
exists 0:X1=0
`,
  `AArch64 SM
"self-modifying code"
CacheType=IDC
{
0:X0=instr:"NOP"; 0:X1=P0:l0;
}
 P0           | P1          ;
 STR W0,[X1]  | LDR W2,[X3] ;
 DC CVAU,X1   | ISB         ;
 DSB ISH      | BL l0       ;
 IC IVAU,X1   | l0: B l1    ;
 DSB ISH      | MOV W4,#1   ;
 ISB          | l1: MOV W5,#2 ;
 l0: B l1     |             ;
 l1:          |             ;
exists (0:X2=0 /\\ 1:X4=1) \\/ ~(x=1)
`,
];

/** Pieces that make a parser take other paths than random letters do. */
const TOKENS = [
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  ";",
  ",",
  "*",
  "&",
  "+",
  "=",
  "!=",
  "==",
  "!",
  "~",
  "/\\",
  "\\/",
  "(*",
  "*)",
  "/*",
  "*/",
  "//",
  '"',
  "\n",
  " ",
  "\t",
  "\r\n",
  "0",
  "7",
  "250",
  "99999999999999999999",
  "P0",
  "P1",
  "P9",
  "C",
  "arch",
  "x86-64",
  "arm64",
  "code",
  "page",
  "frame",
  "versions",
  "while",
  "if",
  "int",
  "exists",
  "~exists",
  "forall",
  "locations",
  "r0",
  "x",
  "f",
  "new",
  "old",
  "trap",
  "WRITE_ONCE",
  "READ_ONCE",
  "smp_load_acquire",
  "text_write",
  "AArch64",
  "MOV",
  "STR",
  "LDR",
  "B",
  "BL",
  "l0:",
  "|",
  "X0",
  "W1",
  "#1",
  "instr:",
  "0:X0=",
  "CacheType=",
  "\u00e9",
  "\u0000",
];

const fragment = fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 8 }));

/** A seed text with a few random edits: delete, duplicate or replace a span, insert tokens. */
function mutated(seeds: string[]): fc.Arbitrary<string> {
  const edit = fc.record({
    at: fc.nat(),
    len: fc.nat({ max: 40 }),
    kind: fc.constantFrom("delete", "duplicate", "insert", "replace"),
    text: fc.array(fragment, { maxLength: 4 }).map((xs) => xs.join("")),
  });
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 6 }))
    .map(([seed, edits]) => {
      let s = seed;
      for (const e of edits) {
        const at = s.length ? e.at % s.length : 0;
        const end = Math.min(s.length, at + e.len);
        if (e.kind === "delete") s = s.slice(0, at) + s.slice(end);
        else if (e.kind === "duplicate") s = s.slice(0, end) + s.slice(at, end) + s.slice(end);
        else if (e.kind === "insert") s = s.slice(0, at) + e.text + s.slice(at);
        else s = s.slice(0, at) + e.text + s.slice(end);
      }
      return s;
    });
}

const randomText = fc.array(fragment, { maxLength: 60 }).map((xs) => xs.join(""));

/** How many inputs parsed and how many were refused (the fuzz reaches both). */
const tally = { ok: 0, refused: 0 };

/** Runs `parse`; a thrown error must be `Err` with a position. Returns the time taken. */
function check(
  parse: () => unknown,
  Err: new (...args: never[]) => { line: number; column: number },
): number {
  const t0 = performance.now();
  try {
    parse();
    tally.ok++;
  } catch (e) {
    if (!(e instanceof Err)) throw e;
    tally.refused++;
    expect(Number.isInteger(e.line) && e.line >= 1).toBe(true);
    expect(Number.isInteger(e.column) && e.column >= 1).toBe(true);
  }
  return performance.now() - t0;
}

/** A scenario text as explore() reads it: parsed, then compiled (the machine's own checks). */
const readScenario = (t: string) => compile(parseScenario(t, "f.litmus"));

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const MAX_MS = 2000;

/** Every input `read` reads: a result or a positioned `Err`, each within MAX_MS. */
function fuzz(
  inputs: fc.Arbitrary<string>,
  read: (t: string) => unknown,
  Err: Parameters<typeof check>[1],
  seed: number,
): void {
  fc.assert(
    fc.property(inputs, (t) => {
      expect(check(() => read(t), Err)).toBeLessThan(MAX_MS);
    }),
    { numRuns: RUNS, seed },
  );
}

/** Random token soup, alone or after a file's first line(s) `head`. */
const soup = (head: string) =>
  fc.oneof(
    randomText,
    randomText.map((t) => `${head}\n${t}`),
  );

describe("scenario parser fuzz", () => {
  it("random token soup: a spec or a positioned FormatError", () => {
    fuzz(soup("C t\narch x86-64"), readScenario, FormatError, 12);
  });

  it("mutated scenario files: a spec or a positioned FormatError", () => {
    tally.ok = tally.refused = 0;
    fuzz(mutated(scenarioSeeds), readScenario, FormatError, 13);
    expect(tally.ok).toBeGreaterThan(RUNS / 50);
    expect(tally.refused).toBeGreaterThan(RUNS / 50);
  });
});

describe("litmus parser fuzz", () => {
  it("random token soup: a test or a positioned LitmusError", () => {
    fuzz(soup("AArch64 t"), (t) => parseLitmus(t, "f.litmus"), LitmusError, 14);
  });

  it("mutated litmus tests: parse and translate give a result or a positioned LitmusError", () => {
    tally.ok = tally.refused = 0;
    fuzz(mutated(litmusSeeds), (t) => translate(parseLitmus(t, "f.litmus")), LitmusError, 15);
    expect(tally.ok).toBeGreaterThan(RUNS / 50);
    expect(tally.refused).toBeGreaterThan(RUNS / 50);
  });
});
