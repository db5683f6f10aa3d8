/** Residency of lines in each CPU's pipeline, I-cache, D-cache and TLB along a witness. */
import type {
  OutcomeResult,
  ResidencyCell,
  Structure,
  Witness,
  WitnessDiff,
  WitnessStep,
} from "../model";
import {
  VERSION_CLASSES,
  VersionClass,
  classifyVersion,
  versionColors,
  versionLabels,
} from "./colors";
import { figureGrid, legendEntry } from "./compose";
import { Figure, Layout, Trace, categoryHeatmap, figure } from "./figure";
import { esc } from "./util";

export const STRUCTURES: readonly Structure[] = ["pipeline", "icache", "dcache", "tlb"];

export const structureLabels: Readonly<Record<Structure, string>> = {
  pipeline: "fetch pipeline",
  icache: "I-cache",
  dcache: "D-cache",
  tlb: "TLB",
};

export interface ResidencyOptions {
  /**
   * One version order (oldest → newest) for every line; by default each cell's own, as the
   * machine gives it (its region's versions).
   */
  versions?: readonly string[];
  /** CPUs to draw (default all). */
  cpus?: readonly number[];
  /** Structures to draw (default all that ever hold something). */
  structures?: readonly Structure[];
  /** Rows to draw for the pipeline and caches (default witness.lines). */
  lines?: readonly string[];
  /** Draw panels whose structure never holds anything (default false). */
  showEmpty?: boolean;
  /** Past this many cells a panel carries no per-cell hover text (default 200,000). */
  maxHoverCells?: number;
  title?: string;
}

/** One CPU's structure over the witness: a code per line and column (VERSION_CLASSES index). */
export interface ResidencyMatrix {
  cpu: number;
  structure: Structure;
  /** Row names (lines, or pages for the TLB). */
  lines: string[];
  /** Column step numbers: 0 for the initial state, then each step's number. */
  steps: number[];
  /** codes[row][column]. */
  codes: Uint8Array[];
  /** Version names per [row][column] (null = nothing held); only when the panel is small. */
  versions: (string | null)[][] | null;
  /** Whether anything is held at any column. */
  held: boolean;
}

const INVALID = VERSION_CLASSES.indexOf("invalid");

function snapshots(w: Witness): ResidencyCell[][] {
  return [w.initial, ...w.steps.map((s) => s.residency)];
}

/** Every version name in the witness, in first-seen order. */
export function versionsOf(w: Witness): string[] {
  const seen = new Set<string>();
  for (const snap of snapshots(w)) for (const c of snap) seen.add(c.version);
  return [...seen];
}

/** A version as held, with the order it is read in (oldest → newest), if any. */
export interface HeldVersion {
  version: string;
  order?: readonly string[];
}

/** Every version the witness holds with its order, once per name and order, in first-seen order. */
function heldOf(w: Witness): HeldVersion[] {
  const seen = new Map<string, Set<readonly string[] | undefined>>();
  const out: HeldVersion[] = [];
  for (const snap of snapshots(w))
    for (const c of snap) {
      let orders = seen.get(c.version);
      if (!orders) seen.set(c.version, (orders = new Set()));
      if (orders.has(c.order)) continue;
      orders.add(c.order);
      out.push({ version: c.version, order: c.order });
    }
  return out;
}

/** Row names per structure: the given lines first, then any other line seen, in order. */
function rowsOf(w: Witness, opts: ResidencyOptions): Map<Structure, string[]> {
  const rows = new Map<Structure, string[]>();
  const sets = new Map<Structure, Set<string>>();
  for (const s of STRUCTURES) {
    const base = s === "tlb" ? [] : [...(opts.lines ?? w.lines)];
    rows.set(s, base);
    sets.set(s, new Set(base));
  }
  const tlbSeen = new Set<string>();
  const otherSeen = new Set<string>();
  for (const snap of snapshots(w)) {
    for (const c of snap) {
      if (c.structure === "tlb") {
        tlbSeen.add(c.line);
        continue;
      }
      otherSeen.add(c.line);
      if (opts.lines) continue;
      const set = sets.get(c.structure)!;
      if (!set.has(c.line)) {
        set.add(c.line);
        rows.get(c.structure)!.push(c.line);
      }
    }
  }
  // Pages (names only the TLB holds) are rows of the TLB panels only.
  if (!opts.lines) {
    for (const st of STRUCTURES) {
      if (st === "tlb") continue;
      rows.set(
        st,
        rows.get(st)!.filter((l) => otherSeen.has(l) || !tlbSeen.has(l)),
      );
    }
  }
  // TLB rows: pages named in witness.lines first, then the rest as first seen.
  const tlbRows = w.lines.filter((l) => tlbSeen.has(l));
  for (const l of tlbSeen) if (!tlbRows.includes(l)) tlbRows.push(l);
  rows.set("tlb", tlbRows);
  return rows;
}

/** The residency matrices of a witness, one per CPU and structure, in CPU then structure order. */
export function residencyMatrices(w: Witness, opts: ResidencyOptions = {}): ResidencyMatrix[] {
  const cpus = opts.cpus ?? Array.from({ length: w.cpus }, (_, i) => i);
  const structures = opts.structures ?? STRUCTURES;
  const rows = rowsOf(w, opts);
  const snaps = snapshots(w);
  const steps = [0, ...w.steps.map((s) => s.step)];
  const maxHover = opts.maxHoverCells ?? 200_000;
  const codeOf = new Map<readonly string[] | undefined, Map<string, number>>();
  const code = (v: string, cellOrder: readonly string[] | undefined): number => {
    const order = opts.versions ?? cellOrder;
    let byName = codeOf.get(order);
    if (!byName) codeOf.set(order, (byName = new Map()));
    let c = byName.get(v);
    if (c === undefined) {
      c = VERSION_CLASSES.indexOf(classifyVersion(v, order));
      byName.set(v, c);
    }
    return c;
  };
  const mats = new Map<string, ResidencyMatrix>();
  const rowIndex = new Map<Structure, Map<string, number>>();
  for (const s of structures) rowIndex.set(s, new Map(rows.get(s)!.map((l, i) => [l, i])));
  const out: ResidencyMatrix[] = [];
  for (const cpu of cpus) {
    for (const s of structures) {
      const n = rows.get(s)!.length;
      const small = n * snaps.length <= maxHover;
      const m: ResidencyMatrix = {
        cpu,
        structure: s,
        lines: rows.get(s)!,
        steps,
        codes: Array.from({ length: n }, () => new Uint8Array(snaps.length).fill(INVALID)),
        versions: small
          ? Array.from({ length: n }, () => new Array<string | null>(snaps.length).fill(null))
          : null,
        held: false,
      };
      mats.set(`${cpu}|${s}`, m);
      out.push(m);
    }
  }
  snaps.forEach((snap, col) => {
    for (const c of snap) {
      const m = mats.get(`${c.cpu}|${c.structure}`);
      if (!m) continue;
      const r = rowIndex.get(c.structure)!.get(c.line);
      if (r === undefined) continue;
      m.codes[r][col] = code(c.version, c.order);
      if (m.versions) m.versions[r][col] = c.version;
      m.held = true;
    }
  });
  return out;
}

function stepLabel(s: WitnessStep | undefined): string {
  if (!s) return "initial state";
  return `step ${s.step} · CPU${s.cpu}: ${s.action}`;
}

/** The sync steps of a witness as dotted vertical lines (at most `max`). */
export function syncShapes(w: Witness, max = 200): Layout[] {
  return w.steps
    .filter((s) => s.sync)
    .slice(0, max)
    .map((s) => ({
      type: "line",
      xref: "x",
      yref: "y domain",
      x0: s.step,
      x1: s.step,
      y0: 0,
      y1: 1,
      line: { color: "#000000", width: 1, dash: "dot" },
    }));
}

/** One heatmap panel: rows = lines, columns = steps, coloured by version class. */
export function residencyPanel(
  m: ResidencyMatrix,
  w: Witness,
  opts: { title?: string } = {},
): Figure {
  const z = m.codes.map((r) => Array.from(r));
  const cols = m.steps.length;
  const trace = categoryHeatmap(
    `CPU${m.cpu} ${structureLabels[m.structure]}`,
    m.steps,
    m.lines,
    z,
    VERSION_CLASSES.map((c) => versionColors[c]),
  );
  if (m.versions) {
    const actions = [stepLabel(undefined), ...w.steps.map(stepLabel)].map(esc);
    trace.text = m.versions.map((r) =>
      r.map((v, col) => `${esc(v ?? "invalid")}<br>${actions[col]}`),
    );
    trace.hovertemplate = `CPU${m.cpu} ${structureLabels[m.structure]} · %{y}<br>%{text}<extra></extra>`;
  } else {
    trace.hovertemplate = `CPU${m.cpu} ${structureLabels[m.structure]} · %{y} · step %{x}<extra></extra>`;
  }
  if (cols <= 120 && m.lines.length <= 64) {
    trace.xgap = 1;
    trace.ygap = 1;
  }
  return figure([trace], {
    title: opts.title ?? `CPU${m.cpu} ${structureLabels[m.structure]}`,
    width: Math.max(200, Math.min(800, 14 * cols)) + 120,
    height: Math.max(60, Math.min(480, 22 * m.lines.length)) + 100,
    xaxis: {
      title: { text: "step" },
      zeroline: false,
      showgrid: false,
      ...(cols <= 15 ? { dtick: 1 } : {}),
    },
    yaxis: { autorange: "reversed", type: "category", showgrid: false },
    shapes: syncShapes(w),
  });
}

/**
 * Legend entries for the version classes present, naming the versions seen in each. A version
 * is read by `order` when given, else by its own.
 */
export function versionLegend(
  versions: Iterable<string | HeldVersion>,
  order?: readonly string[],
  always: VersionClass[] = [],
): Trace[] {
  const names = new Map<VersionClass, string[]>();
  for (const c of always) names.set(c, []);
  for (const x of versions) {
    const held = typeof x === "string" ? { version: x } : x;
    const v = held.version;
    const c = classifyVersion(v, order ?? held.order);
    const list = names.get(c) ?? [];
    if (!list.includes(v)) list.push(v);
    names.set(c, list);
  }
  return VERSION_CLASSES.filter((c) => names.has(c)).map((c) => {
    const seen = names.get(c)!.filter((v) => v !== c && versionLabels[c] !== v);
    const label = seen.length
      ? `${versionLabels[c]}: ${seen.slice(0, 3).join(", ")}${seen.length > 3 ? ", …" : ""}`
      : versionLabels[c];
    return legendEntry(label, versionColors[c], `version:${c}`);
  });
}

/**
 * The residency heatmap of a witness: one panel per CPU (rows) and structure (columns),
 * lines × steps, coloured by version class, with the step's action in the hover and the
 * synchronisation events as dotted lines.
 */
export function residencyHeatmap(w: Witness, opts: ResidencyOptions = {}): Figure {
  const mats = residencyMatrices(w, opts);
  const structures = (opts.structures ?? STRUCTURES).filter(
    (s) => opts.showEmpty || opts.structures || mats.some((m) => m.structure === s && m.held),
  );
  const cpus = opts.cpus ?? Array.from({ length: w.cpus }, (_, i) => i);
  const rows: Figure[][] = cpus.map((cpu) =>
    structures.map((s) =>
      residencyPanel(
        mats.find((m) => m.cpu === cpu && m.structure === s)!,
        w,
      ),
    ),
  );
  const legend = versionLegend(heldOf(w), opts.versions, ["invalid"]);
  if (rows.length && rows[0].length)
    rows[0][0] = figure([...rows[0][0].data, ...legend], rows[0][0].layout);
  return figureGrid(rows, {
    title: opts.title ?? "Residency of lines per CPU",
  });
}

/**
 * The first change a step made to a pipeline or cache line (not the TLB, memory or registers),
 * with `lines` only to those lines; null when it made none.
 */
export function writtenChange(s: WitnessStep, lines?: readonly string[]): WitnessDiff | null {
  for (const d of s.changes) {
    if (d.structure !== "pipeline" && d.structure !== "icache" && d.structure !== "dcache")
      continue;
    if (lines && !lines.includes(d.line)) continue;
    return d;
  }
  return null;
}

/** The version a step put in a pipeline or cache line (see writtenChange); "invalid" for none. */
export function writtenVersion(s: WitnessStep, lines?: readonly string[]): string | null {
  const d = writtenChange(s, lines);
  return d ? (d.to ?? "invalid") : null;
}

export interface SwimlaneOptions {
  versions?: readonly string[];
  title?: string;
  /** Outcome shown under the title, e.g. an OutcomeResult key. */
  outcome?: string;
  /** Label the synchronisation events with their action (default when ≤ 30 of them). */
  labelSync?: boolean;
}

/**
 * Per-CPU swimlanes of a witness: a mark per step on the lane of the CPU that took it
 * (circle: program step, diamond: hardware transition, star: synchronisation event),
 * filled with the class of the version the step wrote, and a dotted line at each sync event.
 */
export function swimlane(w: Witness, opts: SwimlaneOptions = {}): Figure {
  const lane = (cpu: number) => `CPU${cpu}`;
  const groups: Array<{
    name: string;
    symbol: string;
    size: number;
    pick: (s: WitnessStep) => boolean;
  }> = [
    {
      name: "program step",
      symbol: "circle",
      size: 11,
      pick: (s) => !s.sync && s.kind === "program",
    },
    {
      name: "hardware transition",
      symbol: "diamond",
      size: 10,
      pick: (s) => !s.sync && s.kind === "hardware",
    },
    { name: "synchronisation event", symbol: "star", size: 16, pick: (s) => s.sync },
  ];
  const syncCount = w.steps.filter((s) => s.sync).length;
  const labelSync = opts.labelSync ?? syncCount <= 30;
  const traces: Trace[] = groups.map((g) => {
    const steps = w.steps.filter(g.pick);
    const colors = steps.map((s) => {
      const d = writtenChange(s, w.lines);
      return d === null
        ? "#FFFFFF"
        : versionColors[classifyVersion(d.to ?? "invalid", opts.versions ?? d.order)];
    });
    const t: Trace = {
      type: "scatter",
      mode: g.name === "synchronisation event" && labelSync ? "markers+text" : "markers",
      name: g.name,
      legendgroup: `step:${g.name}`,
      showlegend: false,
      x: steps.map((s) => s.step),
      y: steps.map((s) => lane(s.cpu)),
      text: steps.map((s) => esc(s.action)),
      customdata: steps.map(
        (s) => `step ${s.step} · CPU${s.cpu} (${s.kind})<br>${esc(s.action)}<br>${esc(s.effect)}`,
      ),
      hovertemplate: "%{customdata}<extra></extra>",
      marker: {
        symbol: g.symbol,
        size: g.size,
        color: g.name === "synchronisation event" ? "#000000" : colors,
        line: { color: "#000000", width: 1 },
      },
    };
    if (t.mode === "markers+text") {
      t.textposition = "top center";
      t.textfont = { size: 10 };
    }
    return t;
  });
  const written: HeldVersion[] = [];
  for (const s of w.steps) {
    const d = writtenChange(s, w.lines);
    if (d) written.push({ version: d.to ?? "invalid", order: d.order });
  }
  const shapesLegend = groups.map((g) =>
    legendEntry(
      g.name,
      g.name === "synchronisation event" ? "#000000" : "#FFFFFF",
      `step:${g.name}`,
      g.symbol,
    ),
  );
  const legend = [...shapesLegend, ...versionLegend(written, opts.versions)];
  const lanes = Array.from({ length: w.cpus }, (_, i) => lane(i));
  const shapes = syncShapes(w).map((s) => ({
    ...s,
    line: { color: "#000000", width: 1, dash: "dot" },
  }));
  const last = w.steps.length ? w.steps[w.steps.length - 1].step : 1;
  const title = opts.title ?? "Witness timeline";
  return figure([...traces, ...legend], {
    title: {
      text: opts.outcome ? `${esc(title)}<br><sub>outcome ${esc(opts.outcome)}</sub>` : esc(title),
      x: 0.01,
      xanchor: "left",
    },
    meta: { title },
    width: Math.max(520, Math.min(1400, 30 * w.steps.length + 200)),
    height: 190 + 55 * w.cpus,
    margin: { l: 70, r: 20, t: 60, b: 110 },
    xaxis: {
      title: { text: "step" },
      range: [-0.5, last + 0.5],
      zeroline: false,
      dtick: w.steps.length > 40 ? undefined : 1,
    },
    yaxis: {
      type: "category",
      categoryorder: "array",
      categoryarray: lanes,
      autorange: "reversed",
      range: undefined,
    },
    shapes,
    legend: { orientation: "h", x: 0, y: -60 / (55 * w.cpus + 20), yanchor: "top" },
  });
}

/** An outcome's witness: the swimlane timeline above the residency heatmap panels. */
export function witnessFigure(o: OutcomeResult, opts: ResidencyOptions = {}): Figure {
  const w = o.witness;
  const lanes = swimlane(w, { versions: opts.versions, title: "Witness timeline" });
  const mats = residencyMatrices(w, opts);
  const structures = (opts.structures ?? STRUCTURES).filter(
    (s) => opts.showEmpty || opts.structures || mats.some((m) => m.structure === s && m.held),
  );
  const cpus = opts.cpus ?? Array.from({ length: w.cpus }, (_, i) => i);
  const legend = versionLegend(heldOf(w), opts.versions, ["invalid"]);
  const rows: Figure[][] = [
    [figure([...lanes.data, ...legend], { ...lanes.layout, title: "Witness timeline" })],
  ];
  for (const cpu of cpus) {
    rows.push(
      structures.map((s) =>
        residencyPanel(
          mats.find((m) => m.cpu === cpu && m.structure === s)!,
          w,
        ),
      ),
    );
  }
  return figureGrid(rows, {
    title: opts.title ?? `Witness of ${esc(o.key)}`,
  });
}
