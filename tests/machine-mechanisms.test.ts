/**
 * Each machine mechanism changes an outcome: the same scenario explored with and without it
 * (tests/scenarios/ files, or the file's program with one statement changed) reaches different
 * outcome sets.
 */
import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { explore } from "../lib/explorer/explore";
import type { ExplorationResult } from "../lib/explorer/result";
import { badOf, valuesOf } from "../lib/explorer/query";
import { loadScenario, parseScenario } from "../lib/scenario/format";

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
