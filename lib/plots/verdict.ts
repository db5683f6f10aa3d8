/**
 * Verdict tables: architecture variants × mitigation subsets, sufficient or not, with witnesses
 * (cells from verdictOf() in lib/model/verdict.ts).
 */
import { verdictClass, type VerdictCell, type VerdictClass, type Witness } from "../model";
import { verdictColors } from "./colors";
import { figureGrid, legendEntry } from "./compose";
import { Figure, Trace, categoryHeatmap, figure } from "./figure";
import { esc } from "./util";

const CLASSES: readonly VerdictClass[] = ["sufficient", "insufficient", "unknown"];

/** Row label of a subset, in the universe's order: "none", "1", "1+3", ... */
export function subsetLabel(ms: readonly string[], universe: readonly string[]): string {
  const sorted = [...ms].sort((a, b) => universe.indexOf(a) - universe.indexOf(b));
  return sorted.length ? sorted.join("+") : "none";
}

function firstSeen(xs: Iterable<string>): string[] {
  return [...new Set(xs)];
}

function witnessText(w: Witness | undefined, max = 12): string {
  if (!w) return "";
  const lines = w.steps
    .slice(0, max)
    .map((s) => `${s.step}. CPU${s.cpu}: ${esc(s.action)}${s.sync ? " ★" : ""}`);
  if (w.steps.length > max) lines.push(`… ${w.steps.length - max} more steps`);
  return `<br>witness:<br>${lines.join("<br>")}`;
}

export interface VerdictOptions {
  /** Every mitigation, in the order rows name them (default: first seen). */
  mitigations?: readonly string[];
  archs?: readonly string[];
  situations?: readonly string[];
  title?: string;
}

/** One panel: rows = mitigation subsets (by size), columns = architecture variants. */
export function verdictPanel(cells: readonly VerdictCell[], opts: VerdictOptions = {}): Figure {
  const universe = opts.mitigations ?? firstSeen(cells.flatMap((c) => c.mitigations));
  const archs = opts.archs ?? firstSeen(cells.map((c) => c.arch));
  const rank = (ms: readonly string[]) =>
    ms.reduce((a, m) => a + 2 ** Math.max(0, universe.indexOf(m)), 0);
  const subsets = [
    ...new Map(cells.map((c) => [subsetLabel(c.mitigations, universe), c.mitigations])).entries(),
  ]
    .sort((a, b) => a[1].length - b[1].length || rank(a[1]) - rank(b[1]))
    .map(([label]) => label);
  const at = new Map<string, VerdictCell>();
  for (const c of cells) at.set(`${subsetLabel(c.mitigations, universe)}\u0000${c.arch}`, c);
  const z: (number | null)[][] = [];
  const text: string[][] = [];
  const hover: string[][] = [];
  for (const r of subsets) {
    const zr: (number | null)[] = [];
    const tr: string[] = [];
    const hr: string[] = [];
    for (const a of archs) {
      const c = at.get(`${r}\u0000${a}`);
      if (!c) {
        zr.push(null);
        tr.push("");
        hr.push(`${esc(a)} · ${esc(r)}: not run`);
        continue;
      }
      const k = verdictClass(c);
      zr.push(CLASSES.indexOf(k));
      const mark =
        k === "sufficient"
          ? "✓"
          : k === "insufficient"
            ? `✗ ${(c.outcomes ?? []).join(", ")}`
            : "?";
      tr.push(
        c.href ? `<a href="${esc(c.href)}" style="color:inherit">${esc(mark)}</a>` : esc(mark),
      );
      hr.push(
        `${esc(a)} · ${esc(r)}: <b>${k}</b>` +
          (c.outcomes && c.outcomes.length
            ? `<br>reachable: ${c.outcomes.map(esc).join(", ")}`
            : "") +
          (c.note ? `<br>${esc(c.note)}` : "") +
          witnessText(c.witness),
      );
    }
    z.push(zr);
    text.push(tr);
    hover.push(hr);
  }
  const trace: Trace = {
    ...categoryHeatmap(
      "verdict",
      archs,
      subsets,
      z,
      CLASSES.map((c) => verdictColors[c]),
    ),
    xgap: 2,
    ygap: 2,
    text,
    texttemplate: "%{text}",
    textfont: { size: 11, color: "#000000" },
    customdata: hover,
    hovertemplate: "%{customdata}<extra></extra>",
  };
  const longest = Math.max(4, ...subsets.map((r) => r.length));
  const left = Math.min(320, 40 + 7.5 * longest);
  const present = CLASSES.filter((c) => cells.some((x) => verdictClass(x) === c));
  return figure([trace, ...present.map((c) => legendEntry(c, verdictColors[c], `verdict:${c}`))], {
    title: opts.title ?? "Sufficiency of mitigation subsets",
    width: Math.max(200, 130 * archs.length) + left + 20,
    height: Math.max(60, 26 * subsets.length) + 150,
    margin: { l: left, r: 20, t: 100, b: 50 },
    xaxis: { type: "category", side: "top", showgrid: false, title: { text: "" } },
    yaxis: {
      type: "category",
      autorange: "reversed",
      showgrid: false,
    },
  });
}

/** The verdict grid: a panel per situation, side by side. */
export function verdictTable(cells: readonly VerdictCell[], opts: VerdictOptions = {}): Figure {
  const universe = opts.mitigations ?? firstSeen(cells.flatMap((c) => c.mitigations));
  const archs = opts.archs ?? firstSeen(cells.map((c) => c.arch));
  const situations = opts.situations ?? firstSeen(cells.map((c) => c.situation ?? ""));
  const title = opts.title ?? "Sufficiency of mitigation subsets";
  if (situations.length <= 1) return verdictPanel(cells, { mitigations: universe, archs, title });
  const panels = situations.map((s) =>
    verdictPanel(
      cells.filter((c) => (c.situation ?? "") === s),
      { mitigations: universe, archs, title: s || "(any)" },
    ),
  );
  return figureGrid([panels], { title, xgap: 110 });
}
