/**
 * Each machine mechanism changes an outcome: the same scenario explored with and without it
 * (tests/scenarios/ files, or the file's program with one statement changed) reaches different
 * outcome sets.
 */
import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import {
  explore,
  type ExplorationResult,
  badOf,
  valuesOf,
  loadScenario,
  parseScenario,
} from "../lib";

const DIR = join(__dirname, "scenarios");
const file = (f: string) => explore(loadScenario(join(DIR, f)));
/** The file's text with `from` replaced by `to` (the same scenario with one change). */
const variantOf = (f: string, from: string | RegExp, to: string): ExplorationResult => {
  const text = readFileSync(join(DIR, f), "utf8");
  const changed = text.replace(from, to);
  expect(changed, `${f}: "${String(from)}" not found`).not.toBe(text);
  return explore(parseScenario(changed, f));
};

describe("fetch faults: the spurious-fault path only where Linux has it", () => {
  it("x86-64: a not-present fault on kernel text is an oops, on a user page it is retried", () => {
    const kernel = file("S4.litmus");
    const user = file("S4.user.litmus");
    expect(valuesOf(kernel)).toEqual(["new", "oops"]);
    expect(valuesOf(user)).toEqual(["new", "spurious-fault+new"]);
    expect(badOf(kernel)).toEqual(["oops"]);
    expect(badOf(user)).toEqual([]);
  });
  it("x86-64 retries a permission fault on a present NX translation; arm64 oopses on it", () => {
    const x86 = file("x86-64-nx-to-x-spurious.litmus");
    expect(valuesOf(x86)).toContain("spurious-fault+new");
    expect(valuesOf(x86)).not.toContain("oops");
    const arm = variantOf("x86-64-nx-to-x-spurious.litmus", "arch x86-64", "arch arm64");
    expect(valuesOf(arm)).toContain("oops");
    expect(valuesOf(arm)).not.toContain("spurious-fault+new");
  });
  it("riscv64 retries a not-present fault on kernel text (new_vmalloc_check)", () => {
    const rv = variantOf("S4.litmus", "arch x86-64", "arch riscv64");
    expect(valuesOf(rv)).toContain("spurious-fault+new");
    expect(valuesOf(rv)).not.toContain("oops");
  });
  it("fault and oops are bad unless the scenario declares them handled", () => {
    const handled = file("x86-64-too-early-handled.litmus");
    expect(valuesOf(handled)).toContain("fault");
    expect(badOf(handled)).toEqual([]);
    const undeclared = variantOf("x86-64-too-early-handled.litmus", /^handled fault$/m, "");
    expect(badOf(undeclared)).toEqual(["fault"]);
    const s4handled = variantOf("S4.litmus", "arch x86-64", "arch x86-64\nhandled oops");
    expect(badOf(s4handled)).toEqual([]);
  });
});

describe("x86-64 multi-byte instruction sites", () => {
  it("a bare text_poke of a 5-byte CALL in one line can be fetched torn; as one unit it cannot", () => {
    const subline = file("x86-64-text_poke-5-byte-call.litmus");
    expect(valuesOf(subline)).toContain("torn");
    const oneUnit = variantOf(
      "x86-64-text_poke-5-byte-call.litmus",
      "code f[2] = old versions(old, new) subline();",
      "code f = old versions(old, new);",
    );
    expect(valuesOf(oneUnit)).toEqual(["new", "stale"]);
  });
  it("text_poke_bp never tears the same site, and its int3 is emulated (never a bare trap)", () => {
    const bp = file("x86-64-text_poke_bp-5-byte-call.litmus");
    for (const reg of ["1:r0", "1:r1"]) {
      expect(valuesOf(bp, reg)).not.toContain("torn");
      expect(valuesOf(bp, reg)).not.toContain("trap");
    }
    expect(valuesOf(bp, "1:r1")).toContain("new");
  });
});

describe("interrupts and IPIs between any two steps", () => {
  it("an IPI between two instructions of the patched range lets text_poke_bp tear", () => {
    const twoInsns = file("x86-64-text_poke_bp-interruptible.litmus");
    expect(valuesOf(twoInsns)).toContain("torn");
    const oneInsn = variantOf("x86-64-text_poke_bp-interruptible.litmus", " interruptible();", ";");
    expect(valuesOf(oneInsn)).not.toContain("torn");
  });
});

describe("cache-line granularity of instruction fetch", () => {
  it("a neighbour's live code in f's first line brings f's unwritten bytes into the pipeline", () => {
    const shared = file("x86-64-neighbour-shares-line.litmus");
    expect(valuesOf(shared)).toContain("torn");
    const ownLine = variantOf("x86-64-neighbour-shares-line.litmus", " shares(g);", ";");
    expect(valuesOf(ownLine)).toEqual(["new"]);
  });
});

describe("arm64 CMODX (Arm ARM B2.2.5)", () => {
  it("S7 without maintenance can run something unpredictable; a CMODX-safe pair or the maintenance cannot", () => {
    const s7 = file("arm64-cmodx-S7-unpredictable.litmus");
    expect(valuesOf(s7)).toEqual(expect.arrayContaining(["stale", "unpredictable", "new"]));
    const safePair = variantOf(
      "arm64-cmodx-S7-unpredictable.litmus",
      "code f[2] = old versions(old, new);",
      "code f[2] = old versions(old, new) insn(old=NOP, new=B);",
    );
    expect(valuesOf(safePair)).toContain("stale");
    expect(valuesOf(safePair)).not.toContain("unpredictable");
    expect(valuesOf(file("S8.litmus"))).toEqual(["new"]);
    expect(valuesOf(file("S7.litmus"))).toContain("unpredictable");
  });
});
