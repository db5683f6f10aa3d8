/** Fragmentation of an executable-memory range under a workload, for one or more allocators. */
import { ExtentState, extentColors, seriesColor } from "./colors";
import { figureGrid, legendEntry } from "./compose";
import { Figure, Trace, categoryHeatmap, figure } from "./figure";
import { esc } from "./util";

export type { ExtentState } from "./colors";

/** A piece of the range in one state; `end` is exclusive. Addresses in bytes. */
export interface Extent {
  start: number;
  end: number;
  state: ExtentState;
  /** Who holds it (module, BPF program, kprobe, ...), for hover text. */
  owner?: string;
}

/** The range after one step of the workload. */
export interface FragmentationStep {
  /** Step number (or time) of the workload. */
  t: number;
  /** What the range looks like; space not covered is unmapped. */
  extents: Extent[];
  /** Sizes in bytes of the free extents the allocator can hand out. */
  freeExtents: number[];
  /** Direct-map large pages split so far. */
  directMapSplits: number;
  /** 2 MiB (PMD) mappings backing the range so far. */
  hugeMappings: number;
  /** What the step did, for hover text ("alloc bpf 4 KiB", "free module 3"). */
  label?: string;
}

/** An allocator's run over a workload. */
export interface FragmentationSeries {
  /** Name in legends and panel titles ("ROX cache", "module_alloc + set_memory_rox", "bpf_prog_pack"). */
  allocator: string;
  /** The address range drawn (default: the span of all extents). */
  range?: { start: number; end: number };
  steps: FragmentationStep[];
}

/** Map states in code order (codes index this list). */
export const MAP_STATES = ["unmapped", "free", "allocated", "trap", "reserved"] as const;
const STATES = MAP_STATES;
type CellState = (typeof STATES)[number];
const STATE_LABELS: Record<CellState, string> = {
  unmapped: "unmapped",
  free: "free",
  allocated: "allocated",
  trap: "trap-filled (free)",
  reserved: "other vmalloc user",
};

/** A byte count in binary units: `formatBytes(3 * 2 ** 20)` is "3 MiB". */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

function spanOf(s: FragmentationSeries): { start: number; end: number } {
  if (s.range) return s.range;
  let start = Infinity;
  let end = -Infinity;
  for (const st of s.steps)
    for (const e of st.extents) {
      start = Math.min(start, e.start);
      end = Math.max(end, e.end);
    }
  return Number.isFinite(start) && end > start ? { start, end } : { start: 0, end: 1 };
}

/**
 * The range rasterised into `bins` address bins per step: each bin takes the state that covers
 * most of it (unmapped when nothing does). codes[bin][step] indexes STATES.
 */
export function addressBins(
  s: FragmentationSeries,
  bins = 256,
): { offsets: number[]; codes: number[][]; binSize: number } {
  const { start, end } = spanOf(s);
  const binSize = (end - start) / bins;
  const codes = Array.from({ length: bins }, () => new Array<number>(s.steps.length).fill(0));
  const cover = STATES.slice(1).map(() => new Float64Array(bins));
  s.steps.forEach((st, col) => {
    for (const c of cover) c.fill(0);
    for (const e of st.extents) {
      const a = Math.max(e.start, start);
      const b = Math.min(e.end, end);
      if (b <= a) continue;
      const arr = cover[STATES.indexOf(e.state) - 1];
      if (!arr) continue;
      const i0 = Math.floor((a - start) / binSize);
      const i1 = Math.min(bins - 1, Math.floor((b - start - 1e-9) / binSize));
      for (let i = i0; i <= i1; i++) {
        const lo = start + i * binSize;
        arr[i] += Math.min(b, lo + binSize) - Math.max(a, lo);
      }
    }
    for (let i = 0; i < bins; i++) {
      let best = 0;
      let bestCover = binSize * 1e-9;
      for (let k = 0; k < cover.length; k++) {
        if (cover[k][i] > bestCover) {
          bestCover = cover[k][i];
          best = k + 1;
        }
      }
      codes[i][col] = best;
    }
  });
  return { offsets: Array.from({ length: bins }, (_, i) => i * binSize), codes, binSize };
}

export interface AddressMapOptions {
  bins?: number;
  title?: string;
}

/** The address-space map of one allocator's range over the workload: offset × step, by state. */
export function addressMap(s: FragmentationSeries, opts: AddressMapOptions = {}): Figure {
  const { offsets, codes, binSize } = addressBins(s, opts.bins ?? 256);
  const { start } = spanOf(s);
  const mib = 1024 * 1024;
  const trace: Trace = {
    ...categoryHeatmap(
      s.allocator,
      s.steps.map((st) => st.t),
      offsets.map((o) => o / mib),
      codes,
      STATES.map((k) => extentColors[k]),
    ),
    // Only the state per cell: the rest of the hover text comes from x and y, so that a map of
    // 256 bins × many steps stays small in notebooks and the report.
    customdata: codes.map((r) => r.map((c) => STATE_LABELS[STATES[c]])),
    hovertemplate:
      `${esc(s.allocator)}<br>%{customdata} at +%{y:.3f} MiB ` +
      `(bins of ${formatBytes(binSize)} from 0x${Math.round(start).toString(16)})` +
      `<br>step %{x}<extra></extra>`,
  };
  return figure(
    [
      trace,
      ...STATES.filter((k) => k !== "reserved" || codes.some((r) => r.includes(4))).map((k) =>
        legendEntry(STATE_LABELS[k], extentColors[k], `extent:${k}`),
      ),
    ],
    {
      title: opts.title ?? `${s.allocator}: address space`,
      width: 420,
      height: 340,
      xaxis: {
        title: { text: "workload step" },
        showgrid: false,
        zeroline: false,
        showline: true,
        mirror: true,
        linecolor: "#999",
      },
      yaxis: {
        title: { text: "offset in range (MiB)" },
        autorange: "reversed",
        showgrid: false,
        zeroline: false,
        showline: true,
        mirror: true,
        linecolor: "#999",
      },
    },
  );
}

/** Power-of-two bucket of a size: the largest 2^k ≤ n. */
export function pow2Bucket(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.floor(Math.log2(n));
}

export interface HistogramOptions {
  /** Which step: "last" (default) or a step's t. */
  at?: "last" | number;
  title?: string;
}

function stepAt(s: FragmentationSeries, at: "last" | number): FragmentationStep | undefined {
  if (at === "last") return s.steps[s.steps.length - 1];
  return s.steps.find((st) => st.t === at) ?? s.steps.filter((st) => st.t <= at).pop();
}

/** Histogram of free-extent sizes (power-of-two buckets), one bar group per allocator. */
export function freeExtentHistogram(
  series: FragmentationSeries[],
  opts: HistogramOptions = {},
): Figure {
  const at = opts.at ?? "last";
  const buckets = new Set<number>();
  const counts = series.map((s) => {
    const m = new Map<number, number>();
    for (const n of stepAt(s, at)?.freeExtents ?? []) {
      const b = pow2Bucket(n);
      buckets.add(b);
      m.set(b, (m.get(b) ?? 0) + 1);
    }
    return m;
  });
  const xs = [...buckets].sort((a, b) => a - b);
  const data: Trace[] = series.map((s, i) => ({
    type: "bar",
    name: s.allocator,
    legendgroup: `series:${s.allocator}`,
    x: xs.map(formatBytes),
    y: xs.map((b) => counts[i].get(b) ?? 0),
    marker: { color: seriesColor(i) },
    hovertemplate: `${esc(s.allocator)}<br>%{y} free extents of %{x} to <2×<extra></extra>`,
  }));
  return figure(data, {
    title: opts.title ?? "Free extents by size",
    barmode: "group",
    width: 420,
    height: 300,
    xaxis: {
      title: { text: "free extent size (power-of-two bucket)" },
      type: "category",
      categoryorder: "array",
      categoryarray: xs.map(formatBytes),
    },
    yaxis: { title: { text: "free extents" }, rangemode: "tozero" },
  });
}

/** One counter (direct-map splits or 2 MiB mappings) over the workload, a line per allocator. */
export function counterLines(
  series: FragmentationSeries[],
  key: "directMapSplits" | "hugeMappings",
  opts: { title?: string } = {},
): Figure {
  const label = key === "directMapSplits" ? "direct-map splits" : "2 MiB mappings";
  const data: Trace[] = series.map((s, i) => ({
    type: "scatter",
    mode: "lines",
    line: { color: seriesColor(i), width: 2, shape: "hv" },
    name: s.allocator,
    legendgroup: `series:${s.allocator}`,
    x: s.steps.map((st) => st.t),
    y: s.steps.map((st) => st[key]),
    hovertemplate: `${esc(s.allocator)}<br>step %{x}: %{y} ${label}<extra></extra>`,
  }));
  return figure(data, {
    title: opts.title ?? label,
    width: 420,
    height: 300,
    xaxis: { title: { text: "workload step" }, zeroline: false },
    yaxis: { title: { text: label }, rangemode: "tozero" },
  });
}

/** Line figure: direct-map large pages split over the workload, one line per allocator series. */
export function directMapSplits(
  series: FragmentationSeries[],
  opts: { title?: string } = {},
): Figure {
  return counterLines(series, "directMapSplits", { title: opts.title ?? "Direct-map splits" });
}

/** Line figure: 2 MiB (huge) mappings in use over the workload, one line per allocator series. */
export function hugeMappings(series: FragmentationSeries[], opts: { title?: string } = {}): Figure {
  return counterLines(series, "hugeMappings", { title: opts.title ?? "2 MiB mappings" });
}

/**
 * Allocators side by side: their address maps in the first row, then the free-extent histogram,
 * the direct-map splits and the 2 MiB mappings.
 */
export function fragmentationFigure(
  series: FragmentationSeries[],
  opts: { title?: string; bins?: number } = {},
): Figure {
  return figureGrid(
    [
      series.map((s) => addressMap(s, { bins: opts.bins, title: s.allocator })),
      [freeExtentHistogram(series), directMapSplits(series), hugeMappings(series)],
    ],
    { title: opts.title ?? "Fragmentation of the executable range" },
  );
}
