import { JUPYTER_DISPLAY, plotlyBundle } from "../display";
import { discreteColorscale, seriesColors } from "./colors";
import { stripTags } from "./util";

/**
 * A figure is a plain plotly.js value: `{ data, layout, config }`. It serialises with
 * JSON.stringify as is; the display method below is a non-enumerable symbol property, so
 * a figure that is the last value of a notebook cell renders itself.
 */

/** A plotly.js trace (heatmap, scatter, bar, box, ...), as JSON. */
export interface Trace {
  type?: string;
  name?: string;
  [key: string]: unknown;
}

/** A plotly.js layout, as JSON. */
export interface Layout {
  [key: string]: unknown;
}

export interface Figure {
  data: Trace[];
  layout: Layout;
  config?: Record<string, unknown>;
}

/** Font and margins every figure starts from. */
export const baseLayout: Layout = {
  font: { family: "DejaVu Sans, Arial, sans-serif", size: 12 },
  paper_bgcolor: "#ffffff",
  plot_bgcolor: "#ffffff",
  margin: { l: 70, r: 20, t: 50, b: 50 },
  hoverlabel: { namelength: -1 },
  // Traces without their own colour take the series colours of lib/plots/colors.ts.
  colorway: [...seriesColors],
};

/**
 * Every axis of `layout` (xaxis, yaxis2, ...; at least xaxis and yaxis) with `automargin`, so
 * plotly.js grows the margins to fit tick and axis labels instead of cutting them off.
 */
export function withAutomargin(layout: Layout): Layout {
  const out: Layout = { ...layout };
  const keys = new Set([
    "xaxis",
    "yaxis",
    ...Object.keys(out).filter((k) => /^[xy]axis\d*$/.test(k)),
  ]);
  for (const k of keys) {
    const axis = out[k];
    if (axis === undefined || (typeof axis === "object" && axis !== null)) {
      out[k] = { automargin: true, ...((axis as object | undefined) ?? {}) };
    }
  }
  return out;
}

/** Builds a figure and attaches its display method. */
export function figure(
  data: Trace[],
  layout: Layout = {},
  config?: Record<string, unknown>,
): Figure {
  const l: Layout = withAutomargin({ ...baseLayout, ...layout });
  // plotly.js 3 takes titles as {text}.
  if (typeof l.title === "string") l.title = { text: l.title, x: 0.01, xanchor: "left" };
  const fig: Figure = { data, layout: l };
  if (config) fig.config = config;
  return withDisplay(fig);
}

/** Attaches the display method to a plotly-shaped value (e.g. one read back from JSON). */
export function withDisplay<F extends Figure>(fig: F): F {
  Object.defineProperty(fig, JUPYTER_DISPLAY, {
    value: () => mimeBundle(fig),
    enumerable: false,
    configurable: true,
  });
  return fig;
}

/** True for values shaped like a plotly figure. */
export function isFigure(x: unknown): x is Figure {
  if (typeof x !== "object" || x === null) return false;
  const f = x as { data?: unknown; layout?: unknown };
  return Array.isArray(f.data) && typeof f.layout === "object" && f.layout !== null;
}

/** Title text of a figure, if it has one. */
export function titleOf(fig: Figure): string | undefined {
  const t = fig.layout.title;
  if (typeof t === "string") return t;
  if (t && typeof t === "object" && typeof (t as { text?: unknown }).text === "string") {
    return (t as { text: string }).text;
  }
  const meta = fig.layout.meta as { title?: unknown } | undefined;
  return typeof meta?.title === "string" ? meta.title : undefined;
}

/** One-line description used as the text/plain fallback. */
export function describeFigure(fig: Figure): string {
  const kinds = new Map<string, number>();
  for (const t of fig.data)
    kinds.set(t.type ?? "scatter", (kinds.get(t.type ?? "scatter") ?? 0) + 1);
  const parts = [...kinds].map(([k, n]) => `${n} ${k}`).join(", ");
  const title = titleOf(fig);
  return `Figure${title ? ` "${stripTags(title)}"` : ""}: ${parts || "no traces"}`;
}

/**
 * The MIME bundle a front end shows: plotly JSON and a one-line text description (the kernel
 * adds an HTML fallback, see docs/kernel.md).
 */
export function mimeBundle(fig: Figure): Record<string, unknown> {
  return { ...plotlyBundle(fig), "text/plain": describeFigure(fig) };
}

/** A copy of the figure with layout fields merged over the old ones. */
export function withLayout(fig: Figure, layout: Layout): Figure {
  return figure(fig.data, { ...fig.layout, ...layout }, fig.config);
}

/** A copy of the figure with a title. */
export function withTitle(fig: Figure, title: string): Figure {
  return withLayout(fig, {
    title: { text: title, x: 0.01, xanchor: "left" },
    meta: { ...meta(fig), title },
  });
}

function meta(fig: Figure): Record<string, unknown> {
  const m = fig.layout.meta;
  return m && typeof m === "object" ? (m as Record<string, unknown>) : {};
}

/**
 * A heatmap of category codes 0..n-1, cell colour `colors[code]`, without a colour bar or a
 * legend entry (the figure adds legend entries for the categories it shows).
 */
export function categoryHeatmap(
  name: string,
  x: readonly unknown[],
  y: readonly unknown[],
  z: readonly (readonly (number | null)[])[],
  colors: readonly string[],
): Trace {
  return {
    type: "heatmap",
    name,
    x,
    y,
    z,
    zmin: -0.5,
    zmax: colors.length - 0.5,
    colorscale: discreteColorscale(colors),
    showscale: false,
    showlegend: false,
  };
}
