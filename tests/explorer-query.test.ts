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
} from "../lib";
import { publish } from "./support/scenarios";

describe("questions asked of results", () => {
  const s1 = explore(
    publish(
      "x86-64",
      () => {},
      () => {},
    ),
  );
  const s2 = explore(
    publish(
      "x86-64",
      () => {},
      (p) => p.cpuid(),
    ),
  );
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
