/** The figures built from real results: the explorer's, the allocator simulator's, the cost model's. */
import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import {
  latencySweep,
  compareAllocators,
  explore,
  type ExplorationResult,
  VERSION_CLASSES,
  fragmentationFigure,
  fragmentationFromRun,
  latencyFromSweep,
  latencyVsCpus,
  outcomeBars,
  residencyHeatmap,
  swimlane,
  verdictOf,
  verdictTable,
  witnessFigure,
  writtenVersion,
  type Trace,
  parseScenario,
} from "../lib";

function run(name: string): { r: ExplorationResult; versions: string[] } {
  const s = parseScenario(
    readFileSync(join(__dirname, "scenarios", `${name}.litmus`), "utf8"),
    name,
  );
  return { r: explore(s), versions: s.regions[0].versions };
}

const heatmaps = (data: Trace[]) => data.filter((t) => t.type === "heatmap");

describe("figures of explorations", () => {
  const s1 = run("S1");
  const s3 = run("S3");
  const s11 = run("S11");
  const nx = run("x86-64-nx-to-x-spurious");

  it("draws S1's stale witness: pipeline and caches by line, the TLB by page", () => {
    const stale = s1.r.outcomes.find((o) => o.values["1:r0"] === "stale")!;
    const w = stale.witness;
    const fig = residencyHeatmap(w, { versions: s1.versions });
    const heat = heatmaps(fig.data);
    expect(heat.length).toBeGreaterThan(0);
    expect(heat.length % w.cpus).toBe(0);
    for (const h of heat) {
      expect((h.z as number[][])[0]).toHaveLength(w.steps.length + 1);
      const rows = h.y as string[];
      if (String(h.name).endsWith("TLB")) expect(rows).toEqual(["f"]);
      else expect(rows).toEqual(["f+0", "f+1"]);
    }
    // CPU1 runs the old lines: somewhere its pipeline holds "old" (code of class old).
    const pipe1 = heat.find((h) => h.name === "CPU1 fetch pipeline")!;
    const old = VERSION_CLASSES.indexOf("old");
    expect((pipe1.z as number[][]).some((r) => r.includes(old))).toBe(true);
    const withFetch = w.steps.find((s) => s.action.startsWith("speculative fetch"))!;
    expect(writtenVersion(withFetch, w.lines)).toBe("old");
  });

  it("draws the swimlanes and the whole witness of a spurious fault", () => {
    const o = nx.r.outcomes.find((x) => /spurious-fault/.test(x.key))!;
    const lanes = swimlane(o.witness, { versions: nx.versions, outcome: o.key });
    const marks = lanes.data.filter((t) => t.showlegend === false);
    expect(marks.reduce((a, t) => a + (t.x as number[]).length, 0)).toBe(o.witness.steps.length);
    const sync = o.witness.steps.filter((s) => s.sync).map((s) => s.step);
    expect(marks.find((t) => t.name === "synchronisation event")!.x).toEqual(sync);
    const fig = witnessFigure(o, { versions: nx.versions });
    expect(heatmaps(fig.data).length).toBeGreaterThan(0);
  });

  it("derives verdicts and outcome bars from the explorations", () => {
    const cells = [
      verdictOf(s1.r, { mitigations: [] }),
      verdictOf(s3.r, { mitigations: ["4"] }),
      verdictOf(s11.r, { arch: "arm64", mitigations: ["3", "4"] }),
    ];
    // S11 oopses on the fault CPU1 fetched ahead (arch/arm64/mm/fault.c): insufficient.
    expect(cells.map((c) => c.sufficient)).toEqual([false, true, false]);
    expect(cells[2].outcomes).toEqual(["oops"]);
    expect(cells[0].outcomes).toEqual(expect.arrayContaining(["stale", "torn"]));
    expect(cells[0].witness!.steps.length).toBeGreaterThan(0);
    const fig = verdictTable(cells, { mitigations: ["1", "2", "3", "4"] });
    expect(heatmaps(fig.data)[0].y).toEqual(["none", "4", "3+4"]);
    const bars = outcomeBars([s1.r, s3.r, s11.r, nx.r]);
    expect(bars.data.map((t) => t.name)).toEqual(
      expect.arrayContaining(["new", "stale", "torn", "oops", "spurious-fault"]),
    );
  });
});

describe("figures of allocator runs and the cost model", () => {
  it("adapts compareAllocators runs to fragmentation series", () => {
    const runs = compareAllocators("x86-64", {
      events: 300,
      sampleEvery: 30,
      maps: true,
      strategies: ["module_alloc", "bpf_prog_pack", "execmem_rox_cache"],
    });
    const series = runs.map((r) => fragmentationFromRun(r));
    for (const [i, s] of series.entries()) {
      expect(s.steps).toHaveLength(runs[i].samples.length);
      expect(s.steps.every((st) => st.extents.every((e) => e.end > e.start))).toBe(true);
      expect(s.steps.at(-1)!.directMapSplits).toBe(
        runs[i].samples.at(-1)!.directMapSplit1G + runs[i].samples.at(-1)!.directMapSplit2M,
      );
    }
    expect(
      series.some((s) => s.steps.some((st) => st.extents.some((e) => e.state === "trap"))),
    ).toBe(true);
    const fig = fragmentationFigure(series);
    expect(heatmaps(fig.data)).toHaveLength(3);
  });

  it("adapts latencySweep rows to latency series", () => {
    const rows = latencySweep({ samples: 20, cpus: [1, 4, 16, 64, 256] });
    const series = latencyFromSweep(rows);
    expect(new Set(series.map((s) => s.arch))).toEqual(new Set(["x86-64", "arm64", "riscv64"]));
    const fig = latencyVsCpus(series);
    const groups = new Set(rows.map((r) => `${r.strategy} ${r.arch}`));
    expect(fig.data).toHaveLength(groups.size);
    for (const t of fig.data) expect(t.x).toEqual([1, 4, 16, 64, 256]);
  });
});

describe("version sets of the instruction side", () => {
  it("an I-cache that may present old or new is coloured as old", async () => {
    const { classifyVersion } = await import("../lib");
    expect(classifyVersion("old|new", ["old", "new"])).toBe("old");
    expect(classifyVersion("trap|new", ["old", "new"])).toBe("trap");
    expect(classifyVersion("new", ["old", "new"])).toBe("new");
  });
});
