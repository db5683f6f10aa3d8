import { describe, expect, it } from "vitest";
import {
  JUPYTER_DISPLAY,
  md,
  table,
  explore,
  badOf,
  badWitness,
  classesOf,
  outcomeClassesOf,
  resultRow,
  shortestWhere,
  stepsTable,
  valuesOf,
  verdictOf,
  BAD_CLASSES,
  DEFAULT_BAD,
  type ExplorationResult,
  type OutcomeResult,
} from "../lib";
import { publish, nothing } from "./support/scenarios";

describe("questions asked of results", () => {
  const s1 = explore(publish("x86-64", nothing, nothing));
  const s2 = explore(publish("x86-64", nothing, (p) => p.cpuid()));
  it("values, classes and bad classes of a register", () => {
    expect(valuesOf(s1)).toEqual(["new", "stale", "torn"]);
    expect(classesOf(s1)).toEqual(["new", "stale", "torn"]);
    expect(badOf(s1)).toEqual(["stale", "torn"]);
    expect(badOf(s2)).toEqual([]);
    expect(outcomeClassesOf({ "1:r0": "spurious-fault+stale" })).toEqual([
      "stale",
      "spurious-fault",
    ]);
  });
  it("verdictOf on one register agrees with badOf", () => {
    const v = verdictOf(s1, { mitigations: [], reg: "1:r0" });
    expect(v.outcomes).toEqual(badOf(s1));
    expect(v.sufficient).toBe(false);
    expect(verdictOf(s2, { mitigations: [], reg: "1:r0" }).sufficient).toBe(true);
    expect(DEFAULT_BAD).toBe(BAD_CLASSES);
  });
  it("the shortest witness of a bad outcome, or none", () => {
    const w = badWitness(s1)!;
    expect(["stale", "torn"]).toContain(w.values["1:r0"]);
    for (const o of s1.outcomes.filter((x) => x.values["1:r0"] !== "new"))
      expect(w.witness.steps.length).toBeLessThanOrEqual(o.witness.steps.length);
    expect(badWitness(s2)).toBeUndefined();
    expect(shortestWhere(s1, (v) => v === "new")!.values["1:r0"]).toBe("new");
  });
  it("tables and markdown render as HTML and text", () => {
    const t = table([resultRow(s1)], "S1")[JUPYTER_DISPLAY]();
    expect(t["text/html"]).toContain("<caption");
    expect(String(t["text/plain"])).toMatch(/1:r0 reached\s+bad reached/);
    expect(String(t["text/plain"])).toContain("new, stale, torn");
    const w = stepsTable(badWitness(s1)!.witness)[JUPYTER_DISPLAY]();
    expect(String(w["text/plain"])).toContain("call f");
    expect(md("**x** <y>")[JUPYTER_DISPLAY]()["text/markdown"]).toBe("**x** <y>");
    expect(table([{ a: "<b>" }])[JUPYTER_DISPLAY]()["text/html"]).toContain("&lt;b&gt;");
  });
});

describe("the verdict rule (verdictOf)", () => {
  const outcome = (values: Record<string, string>, steps: number): OutcomeResult => ({
    key: JSON.stringify(values),
    values,
    count: 1,
    satisfies: null,
    witness: {
      steps: Array.from({ length: steps }, (_x, i) => ({
        step: i + 1,
        cpu: 1,
        kind: "program" as const,
        action: "a",
        changes: [],
        effect: "",
        sync: false,
        residency: [],
      })),
      initial: [],
      lines: [],
      cpus: 2,
    },
  });
  const result = (outcomes: OutcomeResult[], complete = true, handled?: string[]) =>
    ({
      scenario: "t",
      arch: "x86-64",
      outcomes,
      stats: { complete },
      condition: null,
      observation: null,
      expected: null,
      matchesExpectation: null,
      handled,
    }) as unknown as ExplorationResult;
  const r = result([
    outcome({ "1:r0": "new", "1:r1": "stale" }, 3),
    outcome({ "1:r0": "spurious-fault+fault", "1:r1": "new" }, 5),
  ]);

  it("counts every value of an outcome, or one register's with `reg`", () => {
    const all = verdictOf(r, { mitigations: [] });
    expect(all.sufficient).toBe(false);
    expect(all.outcomes).toEqual(["stale", "fault"]);
    expect(all.witness!.steps.length).toBe(3);
    const r1 = verdictOf(r, { mitigations: ["m"], reg: "1:r1" });
    expect([r1.sufficient, r1.outcomes, r1.arch, r1.mitigations]).toEqual([
      false,
      ["stale"],
      "x86-64",
      ["m"],
    ]);
    expect(verdictOf(r, { mitigations: [], reg: "1:r0" }).outcomes).toEqual(["fault"]);
  });

  it("leaves out handled classes; sufficient only after a complete search", () => {
    const handled = result(r.outcomes, true, ["fault"]);
    expect(verdictOf(handled, { mitigations: [], reg: "1:r0" }).sufficient).toBe(true);
    expect(
      verdictOf(result(r.outcomes, false, ["fault"]), { mitigations: [], reg: "1:r0" }),
    ).toMatchObject({ sufficient: null, outcomes: [] });
    expect(verdictOf(handled, { mitigations: [] }, ["fault"]).sufficient).toBe(true);
  });
});
