/** Composition of single-panel figures into grids, and shared legend entries. */
import { Figure, Layout, Trace, figure, titleOf } from "./figure";
import { esc } from "./util";

/** A legend-only trace: a coloured square named `name` that draws nothing. */
export function legendEntry(name: string, color: string, group = name, symbol = "square"): Trace {
  return {
    type: "scatter",
    mode: "markers",
    x: [null],
    y: [null],
    name,
    legendgroup: group,
    showlegend: true,
    hoverinfo: "skip",
    marker: { color, symbol, size: 12, line: { color: "#777", width: 0.5 } },
  };
}

export interface GridOptions {
  title?: string;
  /** Gaps between panels in pixels (default 80 horizontal, 85 vertical). */
  xgap?: number;
  ygap?: number;
  /** Plot-area size of a panel in pixels when the panel does not say (default 330 × 200). */
  panelWidth?: number;
  panelHeight?: number;
  /** Where the shared legend goes (default "bottom"). */
  legend?: "bottom" | "right";
  layout?: Layout;
}

function marginOf(fig: Figure, side: "l" | "r" | "t" | "b", dflt: number): number {
  const m = (fig.layout.margin ?? {}) as Record<string, unknown>;
  return typeof m[side] === "number" ? (m[side] as number) : dflt;
}

/** Plot-area size of a single-panel figure: its layout size less its margins. */
function plotSize(fig: Figure, key: "width" | "height", dflt: number): number {
  const v = fig.layout[key];
  const m = (fig.layout.margin ?? {}) as Record<string, number>;
  const less = key === "width" ? (m.l ?? 80) + (m.r ?? 80) : (m.t ?? 100) + (m.b ?? 80);
  return typeof v === "number" ? Math.max(key === "width" ? 120 : 50, v - less) : dflt;
}

function axisName(prefix: "x" | "y", k: number): string {
  return k === 1 ? prefix : `${prefix}${k}`;
}

function remapRef(ref: unknown, k: number): unknown {
  if (typeof ref !== "string") return ref;
  const m = /^([xy])\d*( domain)?$/.exec(ref);
  if (!m) return ref;
  return axisName(m[1] as "x" | "y", k) + (m[2] ?? "");
}

function mapPaper(v: unknown, lo: number, hi: number): unknown {
  return typeof v === "number" ? lo + v * (hi - lo) : v;
}

/**
 * Lays out single-panel figures in rows, each panel at its own plot-area size, remapping axes,
 * shapes and annotations; legend entries that repeat (same legendgroup or name) are shown once.
 */
export function figureGrid(rows: Figure[][], opts: GridOptions = {}): Figure {
  const xgap = opts.xgap ?? 80;
  const ygap = opts.ygap ?? 85;
  const pw = opts.panelWidth ?? 330;
  const ph = opts.panelHeight ?? 200;
  const heights = rows.map((r) => Math.max(...r.map((f) => plotSize(f, "height", ph)), 1));
  const widths = rows.map((r) => r.map((f) => plotSize(f, "width", pw)));
  // Room left of each panel for its y tick labels: its own left margin, at least xgap.
  const gaps = rows.map((r) =>
    r.map((f, ci) => (ci === 0 ? 0 : Math.max(xgap, marginOf(f, "l", 0)))),
  );
  const rowWidth = widths.map(
    (w, ri) => w.reduce((a, b) => a + b, 0) + gaps[ri].reduce((a, b) => a + b, 0),
  );
  const W = Math.max(...rowWidth, 1);
  const H = heights.reduce((a, b) => a + b, 0) + ygap * (rows.length - 1);
  const data: Trace[] = [];
  const layout: Layout = {};
  const annotations: unknown[] = [];
  const shapes: unknown[] = [];
  const legendSeen = new Set<string>();
  let k = 0;
  let top = 0;
  rows.forEach((row, ri) => {
    const y1 = 1 - top / H;
    const y0 = 1 - (top + heights[ri]) / H;
    top += heights[ri] + ygap;
    let left = 0;
    row.forEach((panel, ci) => {
      k += 1;
      left += gaps[ri][ci];
      const x0 = left / W;
      const x1 = (left + widths[ri][ci]) / W;
      left += widths[ri][ci];
      const xa = axisName("x", k);
      const ya = axisName("y", k);
      const px = (panel.layout.xaxis ?? {}) as Layout;
      const py = (panel.layout.yaxis ?? {}) as Layout;
      layout[`xaxis${k === 1 ? "" : k}`] = { ...px, domain: [x0, x1], anchor: ya };
      layout[`yaxis${k === 1 ? "" : k}`] = { ...py, domain: [y0, y1], anchor: xa };
      for (const t of panel.data) {
        const copy: Trace = { ...t, xaxis: xa, yaxis: ya };
        if (copy.showlegend !== false) {
          const id = String(copy.legendgroup ?? copy.name ?? "");
          if (id && legendSeen.has(id)) copy.showlegend = false;
          else if (id) legendSeen.add(id);
        }
        data.push(copy);
      }
      const title = titleOf(panel);
      if (title) {
        annotations.push({
          text: `<b>${title}</b>`,
          xref: "paper",
          yref: "paper",
          x: x0,
          y: y1 + (px.side === "top" ? 30 : 4) / H,
          xanchor: "left",
          yanchor: "bottom",
          showarrow: false,
          font: { size: 13 },
        });
      }
      for (const a of (panel.layout.annotations as Layout[] | undefined) ?? []) {
        annotations.push(remapObject(a, k, [x0, x1], [y0, y1]));
      }
      for (const s of (panel.layout.shapes as Layout[] | undefined) ?? []) {
        shapes.push(remapObject(s, k, [x0, x1], [y0, y1]));
      }
    });
  });
  const titleH = opts.title ? 45 : 0;
  const right = opts.legend === "right";
  const firstLeft = Math.max(90, ...rows.map((r) => (r.length ? marginOf(r[0], "l", 0) : 0)));
  const topRoom = Math.max(0, ...(rows[0] ?? []).map((f) => marginOf(f, "t", 0) - 50));
  const margin = {
    l: firstLeft,
    r: right ? 230 : 30,
    t: 45 + titleH + topRoom,
    b: right ? 70 : 150,
  };
  const legend = right
    ? { orientation: "v", x: 1 + 20 / W, xanchor: "left", y: 1, yanchor: "top" }
    : { orientation: "h", x: 0, xanchor: "left", y: -70 / H, yanchor: "top" };
  return figure(data, {
    width: Math.round(W + margin.l + margin.r),
    height: Math.round(H + margin.t + margin.b),
    margin,
    legend,
    ...(opts.title
      ? { title: { text: opts.title, x: 0.01, xanchor: "left" }, meta: { title: opts.title } }
      : {}),
    annotations,
    shapes,
    ...opts.layout,
    ...layout,
  });
}

function remapObject(o: Layout, k: number, xd: [number, number], yd: [number, number]): Layout {
  const copy: Layout = { ...o };
  for (const [a, [lo, hi]] of [
    ["x", xd],
    ["y", yd],
  ] as const) {
    const ref = `${a}ref` as const;
    if (o[ref] === "paper" || o[ref] === undefined) {
      copy[ref] = "paper";
      copy[a] = mapPaper(o[a], lo, hi);
      for (const end of [`${a}0`, `${a}1`] as const)
        if (end in o) copy[end] = mapPaper(o[end], lo, hi);
    } else copy[ref] = remapRef(o[ref], k);
  }
  if (copy.x === undefined) delete copy.x;
  if (copy.y === undefined) delete copy.y;
  return copy;
}

/** Panels side by side in one row. */
export function figureRow(panels: Figure[], opts: GridOptions = {}): Figure {
  return figureGrid([panels], opts);
}

/** Panels in `columns` columns. */
export function figureWrap(panels: Figure[], columns: number, opts: GridOptions = {}): Figure {
  const rows: Figure[][] = [];
  for (let i = 0; i < panels.length; i += Math.max(1, columns))
    rows.push(panels.slice(i, i + columns));
  return figureGrid(rows, opts);
}

/** Escaped hover text joined with line breaks. */
export function hoverLines(lines: string[]): string {
  return lines.map(esc).join("<br>");
}
