import { describe, expect, it } from "vitest";
import { withPlotlyFallback } from "../kernel/plotly";
import {
  VERSION_CLASSES,
  addressBins,
  classifyVersion,
  figure,
  figureGrid,
  fragmentationFigure,
  freeExtentHistogram,
  isFigure,
  latencyBox,
  latencyCdf,
  latencyVsCpus,
  outcomeBars,
  outcomeColors,
  pow2Bucket,
  quantileOf,
  residencyHeatmap,
  residencyMatrices,
  subsetLabel,
  swimlane,
  verdictOf,
  verdictTable,
  versionColors,
  witnessFigure,
  writtenVersion,
  type Figure,
  type Trace,
  toBundle,
} from "../lib";
import {
  exploration,
  fragmentation,
  latencySeries,
  s1,
  s11,
  s3,
  spuriousWitness,
  staleWitness,
  syncedWitness,
} from "./plots-fixtures";

const display = Symbol.for("Jupyter.display");

function byType(fig: Figure, type: string): Trace[] {
  return fig.data.filter((t) => (t.type ?? "scatter") === type);
}

function legendNames(fig: Figure): string[] {
  return fig.data.filter((t) => t.showlegend !== false).map((t) => String(t.name));
}

/** Every axis domain lies in [0, 1] and every trace's axes exist in the layout. */
function expectConsistentAxes(fig: Figure): void {
  for (const t of fig.data) {
    const xa = String(t.xaxis ?? "x").replace(/^x/, "xaxis");
    const ya = String(t.yaxis ?? "y").replace(/^y/, "yaxis");
    if (fig.data.length > 1 || t.xaxis) {
      expect(fig.layout[xa] ?? fig.layout.xaxis, `${xa} of ${t.name}`).toBeDefined();
      expect(fig.layout[ya] ?? fig.layout.yaxis, `${ya} of ${t.name}`).toBeDefined();
    }
  }
  for (const [k, v] of Object.entries(fig.layout)) {
    if (!/^[xy]axis\d*$/.test(k)) continue;
    const d = (v as { domain?: number[] }).domain;
    if (d) {
      expect(d[0]).toBeGreaterThanOrEqual(0);
      expect(d[1]).toBeLessThanOrEqual(1 + 1e-9);
      expect(d[1]).toBeGreaterThan(d[0]);
    }
  }
}

/** JSON round trip keeps the figure (no typed arrays, functions or undefined-only data). */
function expectPlainJson(fig: Figure): void {
  const back = JSON.parse(JSON.stringify(fig)) as Figure;
  expect(back.data.length).toBe(fig.data.length);
  expect(JSON.stringify(back)).toBe(JSON.stringify(fig));
  for (const t of fig.data) {
    for (const v of Object.values(t)) expect(ArrayBuffer.isView(v)).toBe(false);
  }
}

describe("colour scheme", () => {
  it("classifies versions by an order; trap fills, faults and permissions on their own", () => {
    expect(classifyVersion("v3", ["v1", "v2", "v3"])).toBe("new");
    expect(classifyVersion("v2", ["v1", "v2", "v3"])).toBe("old");
    expect(classifyVersion("old:prog", ["old", "new"])).toBe("old");
    expect(classifyVersion("new:prog", ["old", "new"])).toBe("new");
    expect(classifyVersion("stale")).toBe("other");
    expect(classifyVersion("new")).toBe("other");
    expect(classifyVersion("trap")).toBe("trap");
    expect(classifyVersion("int3")).toBe("trap");
    expect(classifyVersion("fault")).toBe("fault");
    expect(classifyVersion(undefined)).toBe("invalid");
    expect(classifyVersion("RX")).toBe("exec");
    expect(classifyVersion("R-X")).toBe("exec");
    expect(classifyVersion("RW")).toBe("noexec");
    expect(classifyVersion("--")).toBe("invalid");
    expect(classifyVersion("mystery")).toBe("other");
  });

  it("reads the order, not the names: the last version of the order is the new one", () => {
    expect(classifyVersion("v10", ["v2", "v10"])).toBe("new");
    expect(classifyVersion("old", ["new", "old"])).toBe("new");
    expect(classifyVersion("new", ["new", "old"])).toBe("old");
    expect(classifyVersion("old|new", ["new", "old"])).toBe("old");
  });

  it("uses Okabe-Ito colours and gives versions and outcomes the same colour for the same thing", () => {
    const okabe = [
      "#000000",
      "#E69F00",
      "#56B4E9",
      "#009E73",
      "#F0E442",
      "#0072B2",
      "#D55E00",
      "#CC79A7",
    ];
    for (const c of Object.values(outcomeColors)) expect(okabe).toContain(c);
    expect(versionColors.new).toBe(outcomeColors.new);
    expect(versionColors.old).toBe(outcomeColors.stale);
    expect(versionColors.trap).toBe(outcomeColors.trap);
    expect(versionColors.fault).toBe(outcomeColors.fault);
    expect(new Set(Object.values(outcomeColors)).size).toBe(8);
    expect(new Set(VERSION_CLASSES.map((c) => versionColors[c])).size).toBe(VERSION_CLASSES.length);
  });
});

describe("figures display themselves", () => {
  it("returns a plotly MIME bundle and serialises without the display method", () => {
    const fig = residencyHeatmap(staleWitness);
    const f = fig as unknown as Record<symbol, () => Record<string, unknown>>;
    const bundle = f[display]();
    const json = bundle["application/vnd.plotly.v1+json"] as { data: unknown[]; layout: unknown };
    expect(json.data).toBe(fig.data);
    expect(json.layout).toBe(fig.layout);
    expect(bundle["text/plain"]).toMatch(
      /^Figure "Residency of lines per CPU": \d+ heatmap, \d+ scatter$/,
    );
    expect(withPlotlyFallback(bundle)["text/html"]).toContain("execmem-lab-plotly");
    expect(toBundle(fig)["application/vnd.plotly.v1+json"]).toEqual(json);
    expect(Object.keys(JSON.parse(JSON.stringify(fig)))).toEqual(["data", "layout"]);
    expect(isFigure(JSON.parse(JSON.stringify(fig)))).toBe(true);
  });

  it("turns string titles into plotly 3 title objects", () => {
    expect(figure([], { title: "T" }).layout.title).toMatchObject({ text: "T" });
  });
});

describe("residency", () => {
  it("builds a lines × steps matrix per CPU and structure; absent cells are invalid", () => {
    const mats = residencyMatrices(staleWitness, { versions: ["old", "new"] });
    expect(mats).toHaveLength(2 * 4);
    const pipe1 = mats.find((m) => m.cpu === 1 && m.structure === "pipeline")!;
    expect(pipe1.lines).toEqual(["f+0", "f+1"]);
    expect(pipe1.steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const code = (c: string) => VERSION_CLASSES.indexOf(c as never);
    expect(Array.from(pipe1.codes[0])).toEqual([code("invalid"), ...Array(8).fill(code("old"))]);
    const ic1 = mats.find((m) => m.cpu === 1 && m.structure === "icache")!;
    expect(Array.from(ic1.codes[0]).slice(0, 4)).toEqual([
      code("old"),
      code("old"),
      code("old"),
      code("invalid"),
    ]);
    const tlb0 = mats.find((m) => m.cpu === 0 && m.structure === "tlb")!;
    expect(tlb0.lines).toEqual(["f"]);
    expect(tlb0.codes[0][0]).toBe(code("exec"));
    expect(pipe1.versions![1][2]).toBe("old");
  });

  it("draws one heatmap per CPU and structure holding anything, with actions in the hover", () => {
    const fig = residencyHeatmap(staleWitness, { versions: ["old", "new"] });
    const heat = byType(fig, "heatmap");
    expect(heat).toHaveLength(2 * 4);
    for (const h of heat) {
      const z = h.z as number[][];
      expect(z.length).toBe((h.y as string[]).length);
      for (const r of z) expect(r).toHaveLength(staleWitness.steps.length + 1);
      expect(h.zmin).toBe(-0.5);
      expect(h.zmax).toBe(VERSION_CLASSES.length - 0.5);
    }
    const text = heat[4].text as string[][];
    expect(text[0][1]).toContain("speculative fetch f+0");
    expect(text[0][1]).toContain("old");
    expect(legendNames(fig)).toEqual(["new", "old (stale)", "invalid", "TLB: executable (X): RX"]);
    expect(fig.layout.xaxis8).toBeDefined();
    expectConsistentAxes(fig);
    expectPlainJson(fig);
  });

  it("leaves out structures that never hold anything, and marks sync events", () => {
    const fig = residencyHeatmap(spuriousWitness);
    expect(byType(fig, "heatmap").map((t) => t.name)).toEqual([
      "CPU0 fetch pipeline",
      "CPU0 I-cache",
      "CPU0 D-cache",
      "CPU0 TLB",
      "CPU1 fetch pipeline",
      "CPU1 I-cache",
      "CPU1 D-cache",
      "CPU1 TLB",
    ]);
    const only = residencyHeatmap(spuriousWitness, { structures: ["pipeline"], cpus: [1] });
    expect(byType(only, "heatmap")).toHaveLength(1);
    const shapes = only.layout.shapes as Array<{ x0: number; xref: string }>;
    expect(shapes).toEqual([expect.objectContaining({ x0: 5, xref: "x" })]);
    expect(legendNames(only)).toContain("fault");
  });

  it("leaves per-cell hover text out of large panels", () => {
    const fig = residencyHeatmap(staleWitness, { maxHoverCells: 4 });
    for (const h of byType(fig, "heatmap")) expect(h.text).toBeUndefined();
  });

  it("draws a swimlane per CPU with a mark per step and the sync events", () => {
    const fig = swimlane(syncedWitness, { outcome: "1:r0=new" });
    const marks = fig.data.filter((t) => t.showlegend === false);
    const count = marks.reduce((a, t) => a + (t.x as number[]).length, 0);
    expect(count).toBe(syncedWitness.steps.length);
    const sync = marks.find((t) => t.name === "synchronisation event")!;
    expect(sync.x).toEqual([5]);
    expect(sync.y).toEqual(["CPU1"]);
    expect(sync.text).toEqual(["sync_core (IPI)"]);
    expect(fig.layout.shapes).toHaveLength(1);
    expect(legendNames(fig)).toEqual([
      "program step",
      "hardware transition",
      "synchronisation event",
      "new",
      "trap fill",
      "invalid",
    ]);
    expect(JSON.stringify(fig.layout.title)).toContain("1:r0=new");
    expect(writtenVersion(syncedWitness.steps[1], syncedWitness.lines)).toBe("invalid");
    expect(writtenVersion(syncedWitness.steps[3], syncedWitness.lines)).toBeNull();
  });

  it("puts an outcome's timeline above its residency", () => {
    const fig = witnessFigure(s11.outcomes[1]);
    expect(byType(fig, "heatmap")).toHaveLength(8);
    expect(fig.data.some((t) => t.name === "synchronisation event" && t.xaxis === "x")).toBe(true);
    expect(JSON.stringify(fig.layout.title)).toContain("spurious-fault");
    expectConsistentAxes(fig);
  });
});

describe("fragmentation", () => {
  it("bins the range by the state covering most of each bin", () => {
    const { codes, binSize } = addressBins(
      {
        allocator: "a",
        range: { start: 0, end: 400 },
        steps: [
          {
            t: 0,
            extents: [
              { start: 0, end: 60, state: "allocated" },
              { start: 60, end: 200, state: "trap" },
              { start: 200, end: 300, state: "free" },
            ],
            freeExtents: [100],
            directMapSplits: 0,
            hugeMappings: 1,
          },
        ],
      },
      4,
    );
    expect(binSize).toBe(100);
    expect(codes.map((r) => r[0])).toEqual([2, 3, 1, 0]);
  });

  it("draws address maps side by side, the histogram and the mapping counters", () => {
    const fig = fragmentationFigure(fragmentation);
    const heat = byType(fig, "heatmap");
    expect(heat.map((t) => t.name)).toEqual(fragmentation.map((s) => s.allocator));
    for (const h of heat) {
      expect((h.z as number[][]).length).toBe(256);
      expect((h.x as number[]).length).toBe(fragmentation[0].steps.length);
    }
    expect(byType(fig, "bar")).toHaveLength(3);
    expect(byType(fig, "scatter").filter((t) => t.mode === "lines")).toHaveLength(6);
    expect(legendNames(fig)).toEqual([
      "unmapped",
      "free",
      "allocated",
      "trap-filled (free)",
      ...fragmentation.map((s) => s.allocator),
    ]);
    expectConsistentAxes(fig);
    expectPlainJson(fig);
  });

  it("buckets free extents by powers of two", () => {
    expect(pow2Bucket(4096)).toBe(4096);
    expect(pow2Bucket(6000)).toBe(4096);
    const fig = freeExtentHistogram(fragmentation);
    const total = (fig.data[0].y as number[]).reduce((a, b) => a + b, 0);
    expect(total).toBe(fragmentation[0].steps.at(-1)!.freeExtents.length);
  });
});

describe("latency", () => {
  const series = latencySeries();
  /** One latency point of strategy "s" on arch "a", given by samples, quantiles or a value. */
  const point = (
    cpus: number,
    by: { samples: number[] } | { quantiles: { p: number; value: number }[] } | { value: number },
  ) => ({ strategy: "s", arch: "a", cpus, ...by });
  const quantiles = (...pv: [p: number, value: number][]) => ({
    quantiles: pv.map(([p, value]) => ({ p, value })),
  });

  it("takes quantiles from samples, quantiles or a value", () => {
    expect(quantileOf(point(1, { samples: [3, 1, 2] }), 0.5)).toBe(2);
    expect(quantileOf(point(1, quantiles([0, 10], [1, 20])), 0.25)).toBe(12.5);
    expect(quantileOf(point(1, { value: 7 }), 0.9)).toBe(7);
  });

  it("draws latency against CPU count on a log axis, a line per strategy and arch", () => {
    const fig = latencyVsCpus(series);
    expect(fig.data).toHaveLength(4);
    for (const t of fig.data) {
      expect(t.x).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
      const e = t.error_y as { array: number[]; arrayminus: number[] };
      expect(e.array.every((v) => v >= 0) && e.arrayminus.every((v) => v >= 0)).toBe(true);
    }
    const xa = fig.layout.xaxis as { type: string; tickvals: number[] };
    expect(xa.type).toBe("log");
    expect(xa.tickvals).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
    expect((fig.layout.yaxis as { title: { text: string } }).title.text).toBe("latency (ns)");
  });

  it("draws CDFs and boxes per strategy", () => {
    const cdf = latencyCdf(series, { cpus: 16 });
    expect(cdf.data).toHaveLength(4);
    for (const t of cdf.data) {
      const x = t.x as number[];
      const y = t.y as number[];
      expect(x.every((v, i) => i === 0 || v >= x[i - 1])).toBe(true);
      expect(y.at(-1)).toBe(1);
    }
    const box = latencyBox(series, { cpus: 16 });
    expect(box.data.map((t) => t.name)).toEqual(
      series.filter((s) => s.cpus === 16).map((s) => s.strategy),
    );
    const pre = latencyBox([point(4, quantiles([0, 1], [0.5, 2], [1, 5]))]);
    expect(pre.data[0]).toMatchObject({ median: [2], lowerfence: [1], upperfence: [5] });
  });
});

describe("verdicts", () => {
  it("derives sufficiency from the outcomes reached", () => {
    const bad = verdictOf(s1, { mitigations: [] });
    expect(bad).toMatchObject({ arch: "x86-64", sufficient: false, outcomes: ["stale"] });
    expect(bad.witness).toBe(staleWitness);
    expect(verdictOf(s3, { mitigations: ["4"] }).sufficient).toBe(true);
    expect(verdictOf(s11, { mitigations: ["3", "4"] }).sufficient).toBe(true);
    expect(verdictOf(s11, { mitigations: ["3"] }, ["spurious-fault"]).sufficient).toBe(false);
    const partial = exploration("S3", "x86-64", s3.outcomes, false);
    expect(verdictOf(partial, { mitigations: [] }).sufficient).toBeNull();
  });

  it("draws architectures × subsets, a panel per situation, with marks, links and witnesses", () => {
    const universe = ["1", "2", "3", "4"];
    const cells = ["fresh allocation", "reuse of freed space"].flatMap((situation) =>
      ["x86-64", "arm64"].flatMap((arch) =>
        [[], ["4"], ["3", "4"], ["1", "2", "3", "4"]].map((ms) =>
          verdictOf(ms.length ? s3 : s1, {
            arch,
            mitigations: ms,
            situation,
            href: `#${arch}-${ms.join("")}`,
          }),
        ),
      ),
    );
    const fig = verdictTable(cells, { mitigations: universe });
    const heat = byType(fig, "heatmap");
    expect(heat).toHaveLength(2);
    expect(heat[0].y).toEqual(["none", "4", "3+4", "1+2+3+4"]);
    expect(heat[0].x).toEqual(["x86-64", "arm64"]);
    expect(heat[0].z).toEqual([
      [1, 1],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    const text = heat[0].text as string[][];
    expect(text[0][0]).toBe('<a href="#x86-64-" style="color:inherit">✗ stale</a>');
    expect(text[1][0]).toContain("✓");
    expect((heat[0].customdata as string[][])[0][0]).toContain("speculative fetch f+0");
    expect(legendNames(fig)).toEqual(["sufficient", "insufficient"]);
    expect(subsetLabel(["4", "1"], universe)).toBe("1+4");
    expectConsistentAxes(fig);
  });
});

describe("outcomes and composition", () => {
  it("stacks outcome classes per exploration", () => {
    const fig = outcomeBars([s1, s3, s11]);
    expect(fig.data.map((t) => t.name)).toEqual(["new", "stale", "spurious-fault"]);
    expect(fig.data[0].y).toEqual([5, 7, 6]);
    expect((fig.data[1].marker as { color: string }).color).toBe(outcomeColors.stale);
  });

  it("remaps axes, shapes and annotations of composed panels", () => {
    const a = figure([{ type: "scatter", x: [1], y: [1], name: "a" }], {
      title: "A",
      shapes: [{ type: "line", xref: "x", yref: "y domain", x0: 1, x1: 1, y0: 0, y1: 1 }],
    });
    const b = figure([{ type: "scatter", x: [2], y: [2], name: "a" }], { title: "B" });
    const g = figureGrid([[a, b], [a]]);
    expect(g.data.map((t) => [t.xaxis, t.yaxis])).toEqual([
      ["x", "y"],
      ["x2", "y2"],
      ["x3", "y3"],
    ]);
    expect(g.data.map((t) => t.showlegend)).toEqual([undefined, false, false]);
    const shapes = g.layout.shapes as Array<{ xref: string; yref: string }>;
    expect(shapes.map((s) => [s.xref, s.yref])).toEqual([
      ["x", "y domain"],
      ["x3", "y3 domain"],
    ]);
    expect((g.layout.annotations as Array<{ text: string }>).map((x) => x.text)).toEqual([
      "<b>A</b>",
      "<b>B</b>",
      "<b>A</b>",
    ]);
    expectConsistentAxes(g);
  });
});
