// Small display helpers used by every notebook of the set (source: notebooks/src/_helpers.ts).
// They only format results; every value they show is computed in this run.
import { JUPYTER_DISPLAY, outcomeClassesOf } from "execmem-lab";
import type { ExplorationResult, OutcomeResult, Witness } from "execmem-lab";

const escHtml = (s: unknown): string =>
  String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);

/** A table (HTML in the notebook and the report, aligned text elsewhere). */
function table(rows: Record<string, unknown>[], caption = "") {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  const html =
    `<table>${caption ? `<caption style="text-align:left;font-weight:bold">${escHtml(caption)}</caption>` : ""}` +
    `<thead><tr>${cols.map((c) => `<th>${escHtml(c)}</th>`).join("")}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${cols.map((c) => `<td style="text-align:left">${escHtml(cell(r[c]))}</td>`).join("")}</tr>`).join("") +
    `</tbody></table>`;
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vs: string[]) => vs.map((v, i) => v.padEnd(w[i])).join("  ").trimEnd();
  const text = [caption, line(cols), line(w.map((n) => "-".repeat(n))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))]
    .filter((l) => l !== "")
    .join("\n");
  return { [JUPYTER_DISPLAY]: () => ({ "text/html": html, "text/plain": text }) };
}

/** The values a register took over every outcome of an exploration, sorted. */
function valuesOf(r: ExplorationResult, reg = "1:r0"): string[] {
  return [...new Set(r.outcomes.map((o) => o.values[reg]).filter((v) => v !== undefined))].sort();
}

/** Outcome classes (new, stale, trap, torn, fault, spurious-fault, unpredictable, hang) of one register. */
function classesOf(r: ExplorationResult, reg = "1:r0"): string[] {
  return [...new Set(r.outcomes.flatMap((o) => outcomeClassesOf({ [reg]: o.values[reg] ?? "" }, o.values.hang ? "hang" : "")))];
}

const BAD_CLASSES = ["stale", "trap", "torn", "unpredictable", "hang"];

/** The bad classes (code other than the intended version ran) a register reached. */
function badOf(r: ExplorationResult, reg = "1:r0"): string[] {
  return classesOf(r, reg).filter((c) => BAD_CLASSES.includes(c));
}

/** The outcome with the shortest witness among those whose register satisfies `pred`. */
function shortest(r: ExplorationResult, pred: (v: string) => boolean, reg = "1:r0"): OutcomeResult | undefined {
  return r.outcomes
    .filter((o) => o.values[reg] !== undefined && pred(o.values[reg]))
    .sort((a, b) => a.witness.steps.length - b.witness.steps.length)[0];
}

/** Shortest witness of a bad outcome of the register, if any. */
function badWitness(r: ExplorationResult, reg = "1:r0"): OutcomeResult | undefined {
  return shortest(r, (v) => outcomeClassesOf({ x: v }).some((c) => BAD_CLASSES.includes(c)), reg);
}

/** A witness as a table: step, CPU, program step or hardware, action, effect, synchronising. */
function stepsTable(w: Witness, caption = "witness") {
  return table(
    w.steps.map((s) => ({
      step: s.step,
      cpu: s.kind === "hardware" ? `hw (cpu${s.cpu})` : `cpu${s.cpu}`,
      action: s.action,
      effect: s.effect,
      sync: s.sync ? "sync" : "",
    })),
    caption,
  );
}

/** One row per exploration: what each register ran, states, completeness. */
function resultRow(r: ExplorationResult, reg = "1:r0"): Record<string, unknown> {
  return {
    scenario: r.scenario,
    arch: r.arch,
    [`${reg} reached`]: valuesOf(r, reg).join(", "),
    "bad reached": badOf(r, reg).join(", ") || "none",
    states: r.stats.states,
    complete: r.stats.complete ? "yes" : `no (${r.stats.stoppedBy})`,
  };
}

/** Markdown computed from results (conclusions are written from what this run found). */
function md(text: string) {
  return { [JUPYTER_DISPLAY]: () => ({ "text/markdown": text, "text/plain": text }) };
}
