/** `explore F --sample N --max-ms T`: the sampler stops at the time bound; absurd counts are refused. */
import { describe, expect, it } from "vitest";
import { explore, loadScenario, sampleWalks, MAX_SAMPLE_RUNS, Machine, compile } from "../../lib";
import { cli, lines } from "./support";

describe("sampler limits", () => {
  it("honours maxMs, keeping counts and one witness per outcome", { timeout: 15_000 }, () => {
    const spec = loadScenario("tests/scenarios/S1.litmus");
    const t0 = performance.now();
    const r = explore(spec, { sample: { runs: 200_000, seed: 3 }, maxMs: 300 });
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(3000);
    expect(r.stats.stoppedBy).toBe("time");
    expect(r.stats.complete).toBe(false);
    expect(r.stats.finalStates).toBeGreaterThan(0);
    expect(r.stats.finalStates).toBeLessThan(200_000);
    // Counts add up to at most the walks done (a walk may end in a state that is no outcome);
    // every outcome has its one witness.
    expect(r.outcomes.reduce((n, o) => n + o.count, 0)).toBeLessThanOrEqual(r.stats.finalStates);
    expect(r.outcomes.reduce((n, o) => n + o.count, 0)).toBeGreaterThan(0);
    for (const o of r.outcomes) expect(o.witness.steps.length).toBeGreaterThan(0);
  });

  it("hands walks one at a time and stops at the memory bound", () => {
    const m = new Machine(compile(loadScenario("tests/scenarios/S1.litmus")));
    let seen = 0;
    const done = sampleWalks(m, 1000, 1, () => seen++, { maxHeapBytes: 1 });
    expect(done).toEqual({ runs: 0, stoppedBy: "memory" });
    expect(seen).toBe(0);
    expect(() => sampleWalks(m, MAX_SAMPLE_RUNS + 1, 1, () => {})).toThrow(RangeError);
  });

  it("the CLI refuses an absurd --sample in one line, exit 2", async () => {
    const r = await cli(["explore", "tests/scenarios/S1.litmus", "--sample", "1e20"]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/--sample must be at most 100000000, got "1e20"/);
  });

  it("the CLI stops a long sample at --max-ms", { timeout: 30_000 }, async () => {
    const r = await cli(
      [
        "explore",
        "tests/scenarios/S1.litmus",
        "--sample",
        "5000000",
        "--max-ms",
        "500",
        "--no-witnesses",
      ],
      { timeoutMs: 15_000 },
    );
    expect(r.hung).toBe(false);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/incomplete \(stopped by the time limit of 500 ms\)/);
  });
});
