/** The seeded sampler on scenarios with symmetric CPUs: concrete outcomes, concrete witnesses. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { explore, scenario, type ExplorationResult, type ScenarioSpec } from "../lib";
import { buildGen, genScenario, nothing, publish } from "./support/scenarios";

/** text_poke_bp while `callers` CPUs with one program call the site twice (they are symmetric). */
function poke(callers: number): ScenarioSpec {
  let b = scenario("poke", "x86-64")
    .code("f", { lines: 2, versions: ["old", "new"], initial: "old" })
    .cpu((p) => p.text_poke_bp("f", "new"));
  for (let i = 0; i < callers; i++) b = b.cpu((p) => p.call("r0", "f").call("r1", "f"));
  return b.exists("1:r0=stale").build();
}

/** Every register the witness writes ends with the outcome's value (the witness reaches it). */
function witnessesReachTheirOutcomes(r: ExplorationResult) {
  for (const o of r.outcomes) {
    const regs: Record<string, string> = {};
    for (const s of o.witness.steps)
      for (const c of s.changes)
        if (c.structure === "register" && c.to !== null) regs[`${c.cpu}:${c.line}`] = c.to;
    expect(Object.keys(regs).length).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(regs)) expect(o.values[k], `${o.key}: ${k}`).toBe(v);
  }
}

/** The outcome key with the values of CPUs a and b swapped. */
function swapped(values: Record<string, string>, a: number, b: number): string {
  const w: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    const [c, reg] = k.includes(":") ? k.split(":") : [null, k];
    const to = c === `${a}` ? `${b}:${reg}` : c === `${b}` ? `${a}:${reg}` : k;
    w[to] = v;
  }
  return Object.keys(values)
    .map((k) => `${k}=${w[k]}`)
    .join(" ");
}

describe("sampling with symmetric CPUs", () => {
  const spec = poke(2);
  const all = explore(spec);

  it.each([1, 2, 3, 7, 11])(
    "text_poke_bp, 3 CPUs, seed %i: witnesses replay, outcomes are exhaustive ones",
    (seed) => {
      const r = explore(spec, { sample: { runs: 150, seed } });
      expect(r.stats.reduction).toContain("symmetry");
      expect(r.stats.complete).toBe(false);
      expect(r.stats.stoppedBy).toBe("sample");
      // A sample never gives a verdict.
      expect(r.observation).toBeNull();
      expect(r.matchesExpectation).toBeNull();
      expect(r.outcomes.length).toBeGreaterThan(1);
      const keys = new Set(all.outcomes.map((o) => o.key));
      for (const o of r.outcomes) {
        expect(keys).toContain(o.key);
        // Expanded like the exhaustive outcomes: the permutation of CPUs 1 and 2 is there too.
        const twin = r.outcomes.find((x) => x.key === swapped(o.values, 1, 2));
        expect(twin?.count, o.key).toBe(o.count);
      }
      witnessesReachTheirOutcomes(r);
      // The same seed gives the same sample.
      const again = explore(spec, { sample: { runs: 150, seed } });
      expect(again.outcomes.map((o) => [o.key, o.count])).toEqual(
        r.outcomes.map((o) => [o.key, o.count]),
      );
    },
  );

  it("generated scenarios with two identical readers: sampled outcomes are exhaustive ones", () => {
    fc.assert(
      fc.property(
        genScenario.filter(
          (g) => g.readers.length === 2 && g.readers[0].length === g.readers[1].length,
        ),
        fc.integer({ min: 1, max: 1000 }),
        (g, seed) => {
          const s = buildGen({ ...g, readers: [g.readers[0], g.readers[0]], interrupts: 0 });
          const keys = new Set(explore(s, { witnesses: false }).outcomes.map((o) => o.key));
          const r = explore(s, { sample: { runs: 30, seed } });
          expect(r.stats.reduction).toContain("symmetry");
          for (const o of r.outcomes) expect(keys).toContain(o.key);
          witnessesReachTheirOutcomes(r);
        },
      ),
      { numRuns: 15, seed: 20261201 },
    );
  });

  it("the expansion keeps to the time bound (8 CPUs, seven symmetric)", { timeout: 30_000 }, () => {
    const t0 = performance.now();
    const r = explore(poke(7), { sample: { runs: 200_000, seed: 3 }, maxMs: 300 });
    const ms = performance.now() - t0;
    expect(r.stats.stoppedBy).toBe("time");
    expect(ms).toBeLessThan(3000);
    expect(r.outcomes.length).toBeGreaterThan(0);
    witnessesReachTheirOutcomes(r);
  });

  it("an asymmetric scenario samples as without the symmetry reduction", () => {
    const big = publish("arm64", nothing, nothing);
    const a = explore(big, { sample: { runs: 200, seed: 7 } });
    const b = explore(big, { sample: { runs: 200, seed: 7 }, symmetry: false });
    expect(a.stats.reduction).not.toContain("symmetry");
    const shape = (r: ExplorationResult) =>
      r.outcomes.map((o) => [o.key, o.count, o.witness.steps.map((s) => s.action)]);
    expect(shape(a)).toEqual(shape(b));
    expect(a.outcomes.reduce((n, o) => n + o.count, 0)).toBe(200);
  });
});

describe("expanding symmetric outcomes within a budget", () => {
  const spec = poke(2);
  const all = explore(spec, { witnesses: false });

  it("a search whose expansion runs out of its budget is incomplete and gives no verdict", () => {
    expect(all.stats.complete).toBe(true);
    expect(all.observation).not.toBeNull();
    const cut = explore(spec, { witnesses: false, expansionBudget: 3 });
    expect(cut.stats).toMatchObject({ complete: false, stoppedBy: "expansion" });
    expect(cut.stats.limit).toBe(
      "the expansion budget of 3 states per symmetric outcome (raise it with expansionBudget or --expansion-budget, or turn symmetry off)",
    );
    expect(cut.observation).toBeNull();
    // What it did find is among the complete search's outcomes.
    const keys = new Set(all.outcomes.map((o) => o.key));
    for (const o of cut.outcomes) expect(keys.has(o.key), o.key).toBe(true);
    // A budget the expansion needs no more of changes nothing.
    const roomy = explore(spec, { witnesses: false, expansionBudget: 1_000_000 });
    expect(roomy.stats.complete).toBe(true);
    expect(roomy.outcomes.map((o) => [o.key, o.count])).toEqual(
      all.outcomes.map((o) => [o.key, o.count]),
    );
  });

  it.each([0, -1, 2.5, Number.NaN])("expansionBudget %s is an error naming it", (b) => {
    expect(() => explore(spec, { expansionBudget: b })).toThrow(
      `explore: expansionBudget must be a positive integer, not ${String(b)}`,
    );
  });
});
