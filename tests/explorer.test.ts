import { describe, expect, it } from "vitest";
import {
  explore,
  exploreMany,
  measureSubsets,
  measuresScenario,
  SITUATIONS,
  SWEEP_ARCHES,
  scenario,
} from "../lib";
import { publish, nothing } from "./support/scenarios";

describe("bounds, sampling and progress", () => {
  const big = publish("arm64", nothing, nothing);
  it("a state bound gives an incomplete result, not a hang", () => {
    const r = explore(big, { maxStates: 50 });
    expect(r.stats.complete).toBe(false);
    expect(r.stats.stoppedBy).toBe("states");
    expect(r.stats.limit).toBe("the state limit of 50 states");
    // No verdict from a partial search.
    expect(r.observation).toBeNull();
    expect(r.matchesExpectation).toBeNull();
  });
  it("a time bound gives an incomplete result", () => {
    const fourCpus = scenario("poke", "x86-64")
      .code("f", { lines: 2, versions: ["old", "new"], initial: "old" })
      .cpu((p) => p.text_poke_bp("f", "new"))
      .cpu((p) => p.call("r0", "f").call("r1", "f"))
      .cpu((p) => p.call("r0", "f").call("r1", "f"))
      .cpu((p) => p.call("r0", "f").call("r1", "f"))
      .build();
    const r = explore(fourCpus, { maxMs: 0, witnesses: false });
    expect(r.stats.complete).toBe(false);
    expect(r.stats.stoppedBy).toBe("time");
  });
  it("the seeded sampler finds a subset of the exhaustive outcomes, the same for the same seed", () => {
    const all = new Set(explore(big).outcomes.map((o) => o.key));
    const a = explore(big, { sample: { runs: 200, seed: 7 } });
    const b = explore(big, { sample: { runs: 200, seed: 7 } });
    expect(a.stats.complete).toBe(false);
    for (const o of a.outcomes) expect(all).toContain(o.key);
    expect(a.outcomes.map((o) => [o.key, o.count])).toEqual(
      b.outcomes.map((o) => [o.key, o.count]),
    );
    expect(a.outcomes.reduce((n, o) => n + o.count, 0)).toBe(200);
  });
  it("reports progress", () => {
    const seen: number[] = [];
    explore(big, { onProgress: (p) => seen.push(p.states), progressEvery: 100 });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBeGreaterThanOrEqual(seen[0]);
  });
});

describe("exploreMany on worker threads", () => {
  it("gives the same results as exploring one by one", async () => {
    const specs = SWEEP_ARCHES.map((a) => measuresScenario(a, [3, 4], "fresh"));
    const par = await exploreMany(specs, { workers: 2, witnesses: false });
    const seq = specs.map((s) => explore(s, { witnesses: false }));
    expect(par.map((r) => [r.scenario, r.observation, r.outcomes.map((o) => o.key)])).toEqual(
      seq.map((r) => [r.scenario, r.observation, r.outcomes.map((o) => o.key)]),
    );
  });
  it("names the scenario when a worker's exploration fails", async () => {
    const bad = { ...measuresScenario("arm64", [], "fresh"), arch: "vax" };
    await expect(
      exploreMany([measuresScenario("arm64", [], "fresh"), bad], { workers: 2 }),
    ).rejects.toThrow(/A11 arm64 \{\} fresh: .*unknown architecture "vax"/);
  });
});

describe("Song's four measures (A11 shape)", () => {
  it("builds 16 subsets × 5 variants × 3 situations, all exhaustively explorable", () => {
    expect(measureSubsets()).toHaveLength(16);
    const specs = SWEEP_ARCHES.flatMap((a) =>
      measureSubsets().flatMap((s) => SITUATIONS.map((sit) => measuresScenario(a, s, sit))),
    );
    expect(specs).toHaveLength(240);
    expect(new Set(specs.map((s) => s.name)).size).toBe(240);
  });
  it("the full set of measures is sufficient on every variant and the empty set on none", () => {
    for (const a of SWEEP_ARCHES)
      for (const sit of SITUATIONS) {
        expect(
          explore(measuresScenario(a, [1, 2, 3, 4], sit), { witnesses: false }).observation,
        ).toBe("Never");
        expect(explore(measuresScenario(a, [], sit), { witnesses: false }).observation).toBe(
          "Sometimes",
        );
      }
  });
});

describe("progress display", () => {
  it("explore({progress}) prints progress and its end outside a notebook", () => {
    const lines: string[] = [];
    const orig = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(" "));
    try {
      explore(publish("arm64", nothing, nothing), { progress: "S7-like", progressEvery: 100 });
    } finally {
      console.log = orig;
    }
    expect(lines.some((l) => l.includes("S7-like"))).toBe(true);
    expect(lines.at(-1)).toMatch(/states, complete/);
  });
});

describe("hang", () => {
  it("a CPU that can never proceed is reported as hang, naming it", () => {
    const s = scenario("never", "arm64")
      .data({ flag: 0 })
      .code("f", { lines: 1, versions: ["new"], initial: "new" })
      .cpu((p) => p.WRITE_ONCE("flag", 2))
      .cpu((p) => p.smp_cond_load_acquire("flag", 1).call("r0", "f"))
      .build();
    const r = explore(s);
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0].values.hang).toBe("P1");
    expect(r.outcomes[0].key).toMatch(/hang=P1/);
  });
});
