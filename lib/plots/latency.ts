/** Latency of synchronisation strategies: distributions, and scaling with the CPU count. */
import { dashes, seriesColor } from "./colors";
import { figureGrid } from "./compose";
import { Figure, Layout, Trace, figure } from "./figure";
import { esc } from "./util";

export interface LatencyQuantile {
  /** Probability in [0, 1] (0.5 = median). */
  p: number;
  value: number;
}

/**
 * Latency of one strategy on one architecture at one CPU count. Give samples, quantiles or a
 * single value (a deterministic cost): the figures use whichever is there, in that order.
 */
export interface LatencySeries {
  /** E.g. "text_poke_bp", "text_poke_bp (batched)", "stop_machine", "flush_icache_range". */
  strategy: string;
  /** E.g. "x86-64", "arm64", "riscv64". */
  arch: string;
  cpus: number;
  /** Unit of every value (default "ns"). */
  unit?: string;
  samples?: number[];
  quantiles?: LatencyQuantile[];
  value?: number;
}

export type Statistic = "median" | "mean" | "min" | "max" | "p90" | "p99";

function sorted(s: LatencySeries): number[] | null {
  return s.samples && s.samples.length ? [...s.samples].sort((a, b) => a - b) : null;
}

/** The p-quantile of a series (linear interpolation), or null when it carries no data. */
export function quantileOf(s: LatencySeries, p: number): number | null {
  const xs = sorted(s);
  if (xs) {
    const h = (xs.length - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.ceil(h);
    return xs[lo] + (xs[hi] - xs[lo]) * (h - lo);
  }
  if (s.quantiles && s.quantiles.length) {
    const qs = [...s.quantiles].sort((a, b) => a.p - b.p);
    if (p <= qs[0].p) return qs[0].value;
    for (let i = 1; i < qs.length; i++) {
      if (p <= qs[i].p) {
        const a = qs[i - 1];
        const b = qs[i];
        return b.p === a.p ? b.value : a.value + ((b.value - a.value) * (p - a.p)) / (b.p - a.p);
      }
    }
    return qs[qs.length - 1].value;
  }
  return s.value ?? null;
}

/** A summary statistic of a series. */
export function statisticOf(s: LatencySeries, stat: Statistic = "median"): number | null {
  switch (stat) {
    case "mean":
      if (s.samples && s.samples.length)
        return s.samples.reduce((a, b) => a + b, 0) / s.samples.length;
      return s.value ?? quantileOf(s, 0.5);
    case "min":
      return quantileOf(s, 0);
    case "max":
      return quantileOf(s, 1);
    case "p90":
      return quantileOf(s, 0.9);
    case "p99":
      return quantileOf(s, 0.99);
    default:
      return quantileOf(s, 0.5);
  }
}

function indexer(): (k: string) => number {
  const m = new Map<string, number>();
  return (k) => {
    if (!m.has(k)) m.set(k, m.size);
    return m.get(k)!;
  };
}

function unitOf(series: LatencySeries[]): string {
  return series.find((s) => s.unit)?.unit ?? "ns";
}

export interface DistributionOptions {
  /** Only the series at this CPU count. */
  cpus?: number;
  title?: string;
  logX?: boolean;
}

/** Empirical CDF per series (colour: strategy, dash: architecture). */
export function latencyCdf(series: LatencySeries[], opts: DistributionOptions = {}): Figure {
  const sel = opts.cpus === undefined ? series : series.filter((s) => s.cpus === opts.cpus);
  const color = indexer();
  const dash = indexer();
  const unit = unitOf(sel);
  const data: Trace[] = sel.map((s) => {
    const name = `${s.strategy} · ${s.arch} · ${s.cpus} CPU${s.cpus === 1 ? "" : "s"}`;
    const xs = sorted(s);
    let x: number[];
    let y: number[];
    if (xs) {
      x = xs;
      y = xs.map((_, i) => (i + 1) / xs.length);
    } else if (s.quantiles && s.quantiles.length) {
      const qs = [...s.quantiles].sort((a, b) => a.p - b.p);
      x = qs.map((q) => q.value);
      y = qs.map((q) => q.p);
    } else {
      x = s.value === undefined ? [] : [s.value, s.value];
      y = s.value === undefined ? [] : [0, 1];
    }
    return {
      type: "scatter",
      mode: xs ? "lines" : "lines+markers",
      name,
      legendgroup: name,
      x,
      y,
      line: {
        color: seriesColor(color(s.strategy)),
        dash: dashes[dash(s.arch) % dashes.length],
        shape: xs ? "hv" : "linear",
        width: 2,
      },
      hovertemplate: `${esc(name)}<br>%{x} ${esc(unit)}: P=%{y:.3f}<extra></extra>`,
    };
  });
  return figure(data, {
    title:
      opts.title ?? `Latency distribution${opts.cpus !== undefined ? ` at ${opts.cpus} CPUs` : ""}`,
    width: 640,
    height: 400,
    xaxis: { title: { text: `latency (${unit})` }, type: opts.logX ? "log" : "linear" },
    yaxis: { title: { text: "fraction of runs ≤ latency" }, range: [0, 1.02] },
  });
}

/** Box plot per architecture (x) and strategy (colour), from samples or quantiles. */
export function latencyBox(series: LatencySeries[], opts: DistributionOptions = {}): Figure {
  const sel = opts.cpus === undefined ? series : series.filter((s) => s.cpus === opts.cpus);
  const color = indexer();
  const unit = unitOf(sel);
  const data: Trace[] = sel.map((s) => {
    const c = seriesColor(color(s.strategy));
    const base: Trace = {
      type: "box",
      name: s.strategy,
      legendgroup: `strategy:${s.strategy}`,
      offsetgroup: s.strategy,
      marker: { color: c },
      line: { color: c },
      hovertext: `${esc(s.strategy)} · ${esc(s.arch)} · ${s.cpus} CPUs`,
    };
    if (s.samples && s.samples.length) {
      return { ...base, y: s.samples, x: s.samples.map(() => s.arch), boxpoints: false };
    }
    const q = (p: number) => quantileOf(s, p) ?? NaN;
    return {
      ...base,
      x: [s.arch],
      q1: [q(0.25)],
      median: [q(0.5)],
      q3: [q(0.75)],
      lowerfence: [q(0)],
      upperfence: [q(1)],
    };
  });
  return figure(data, {
    title:
      opts.title ?? `Latency by strategy${opts.cpus !== undefined ? ` at ${opts.cpus} CPUs` : ""}`,
    boxmode: "group",
    width: 640,
    height: 400,
    xaxis: { title: { text: "architecture" }, type: "category" },
    yaxis: { title: { text: `latency (${unit})` }, type: opts.logX ? "log" : "linear" },
  });
}

export interface ScalingOptions {
  statistic?: Statistic;
  /** Quantiles drawn as error bars when the data has them (default [0.1, 0.9]; null for none). */
  band?: [number, number] | null;
  logY?: boolean;
  title?: string;
}

/** Latency against CPU count (log axis, powers of two), a line per strategy and architecture. */
export function latencyVsCpus(series: LatencySeries[], opts: ScalingOptions = {}): Figure {
  const stat = opts.statistic ?? "median";
  const band = opts.band === undefined ? [0.1, 0.9] : opts.band;
  const groups = new Map<string, LatencySeries[]>();
  for (const s of series) {
    const k = `${s.strategy}\u0000${s.arch}`;
    const g = groups.get(k) ?? [];
    g.push(s);
    groups.set(k, g);
  }
  const color = indexer();
  const dash = indexer();
  const symbols = ["circle", "square", "diamond", "triangle-up", "x", "cross"];
  const unit = unitOf(series);
  const data: Trace[] = [];
  let maxCpus = 1;
  let minCpus = Infinity;
  for (const g of groups.values()) {
    g.sort((a, b) => a.cpus - b.cpus);
    const { strategy, arch } = g[0];
    const y = g.map((s) => statisticOf(s, stat));
    const hasBand =
      band !== null &&
      g.some((s) => (s.samples && s.samples.length > 1) || (s.quantiles && s.quantiles.length > 1));
    for (const s of g) {
      maxCpus = Math.max(maxCpus, s.cpus);
      minCpus = Math.min(minCpus, s.cpus);
    }
    const name = `${strategy} · ${arch}`;
    const t: Trace = {
      type: "scatter",
      mode: "lines+markers",
      name,
      legendgroup: name,
      x: g.map((s) => s.cpus),
      y,
      line: {
        color: seriesColor(color(strategy)),
        dash: dashes[dash(arch) % dashes.length],
        width: 2,
      },
      marker: {
        symbol: symbols[dash(arch) % symbols.length],
        size: 7,
        color: seriesColor(color(strategy)),
      },
      hovertemplate: `${esc(name)}<br>%{x} CPUs: %{y} ${esc(unit)} (${stat})<extra></extra>`,
    };
    if (hasBand && band) {
      t.error_y = {
        type: "data",
        symmetric: false,
        array: g.map((s, i) => Math.max(0, (quantileOf(s, band[1]) ?? y[i] ?? 0) - (y[i] ?? 0))),
        arrayminus: g.map((s, i) =>
          Math.max(0, (y[i] ?? 0) - (quantileOf(s, band[0]) ?? y[i] ?? 0)),
        ),
        thickness: 1,
        width: 3,
      };
    }
    data.push(t);
  }
  const ticks: number[] = [];
  for (let c = 1; c <= Math.max(256, maxCpus); c *= 2) if (c >= Math.min(minCpus, 1)) ticks.push(c);
  return figure(data, {
    title: opts.title ?? `Latency against CPU count (${stat})`,
    width: 700,
    height: 430,
    xaxis: { title: { text: "CPUs" }, type: "log", tickvals: ticks, ticktext: ticks.map(String) },
    yaxis: {
      title: { text: `latency (${unit})` },
      type: opts.logY ? "log" : "linear",
      rangemode: "tozero",
    },
  });
}

/** latencyVsCpus with one panel per architecture (side by side), colour by strategy. */
export function latencyVsCpusByArch(series: LatencySeries[], opts: ScalingOptions = {}): Figure {
  const archs = [...new Set(series.map((s) => s.arch))];
  const panels = archs.map((arch) => {
    const f = latencyVsCpus(
      series.filter((s) => s.arch === arch),
      { ...opts, title: arch },
    );
    // Within a panel the architecture is the title; legend entries name the strategy only.
    const data = f.data.map((t) => ({
      ...t,
      name: String(t.name).replace(/ · [^·]*$/, ""),
      legendgroup: `${arch}:${String(t.name)}`,
    }));
    return figure(data, { ...f.layout, width: 480, height: 400 });
  });
  const stat = opts.statistic ?? "median";
  const g = figureGrid([panels], {
    title: opts.title ?? `Latency against CPU count (${stat})`,
    xgap: 90,
  });
  // One legend under each panel (plotly.js legend, legend2, ...).
  const rows = Math.max(...panels.map((p) => p.data.length), 1);
  const m = g.layout.margin as { l: number; r: number; t: number; b: number };
  const plotH = Number(g.layout.height) - m.t - m.b;
  const b = 90 + 21 * rows;
  const layout: Layout = { ...g.layout, height: plotH + m.t + b, margin: { ...m, b } };
  archs.forEach((_, i) => {
    const key = i === 0 ? "legend" : `legend${i + 1}`;
    const axis = (g.layout[i === 0 ? "xaxis" : `xaxis${i + 1}`] ?? {}) as { domain?: number[] };
    layout[key] = {
      orientation: "v",
      x: axis.domain?.[0] ?? 0,
      xanchor: "left",
      y: -70 / plotH,
      yanchor: "top",
    };
  });
  const data = g.data.map((t) => {
    const k = Number(String(t.xaxis ?? "x").slice(1) || 1);
    return k === 1 ? t : { ...t, legend: `legend${k}` };
  });
  return figure(data, layout);
}
