/**
 * Loads out of order on arm64: plain AArch64 tests (tests/litmus-loads, herd7's verdicts in its
 * expected.tsv with their source) run through `agree`: every test agrees (docs/litmus.md,
 * "Loads out of order").
 */
import { join } from "path";
import { describe, expect, it } from "vitest";
import { agree, runLitmus } from "../lib";

const DIR = join(__dirname, "litmus-loads");

describe("load-load reordering on arm64 agrees with herd7", () => {
  const report = agree(DIR);

  it("runs every test, none unsupported, all complete", () => {
    expect(report.entries.length).toBe(19);
    expect(report.unsupported).toEqual([]);
    for (const e of report.entries) expect(e.result?.complete, e.name).toBe(true);
  });

  it("agrees on every test", () => {
    expect(report.disagreed).toEqual([]);
    expect(report.agreed.length).toBe(report.entries.length);
  });

  it("a load runs ahead of a branch on a pending load only when its prediction holds", () => {
    const r = runLitmus(join(DIR, "MP+dmb.sy+ctrl.litmus"), { witnesses: true });
    expect(r.observation).toBe("Sometimes");
    const w = r.states.find((s) => s.satisfies)!.witness!;
    expect(w.steps.map((x) => x.action).join("\n")).toMatch(/predicted: its load is pending/);
    // With an ISB after the branch, the second load waits (ctrl; ISB).
    expect(runLitmus(join(DIR, "MP+dmb.sy+ctrl-isb.litmus")).observation).toBe("Never");
  });

  it("the reordering is what makes LB, MP+dmb.sy+po and IRIW Sometimes", () => {
    const r = runLitmus(join(DIR, "MP+dmb.sy+po.litmus"), { witnesses: true });
    expect(r.observation).toBe("Sometimes");
    const w = r.states.find((s) => s.satisfies)!.witness!;
    const actions = w.steps.map((x) => x.action);
    // The first load is left pending, the second performed, then the first reads x = 0.
    const pending = actions.findIndex((a) => a.includes("left pending"));
    const performed = actions.findIndex((a) => a.startsWith("pending load"));
    expect(pending).toBeGreaterThanOrEqual(0);
    expect(performed).toBeGreaterThan(pending);
  });
});
