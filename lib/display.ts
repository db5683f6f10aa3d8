/**
 * Rich display facade of execmem-lab.
 *
 * The library never depends on a Jupyter kernel. Inside the execmem-lab kernel a hook object is
 * installed under `globalThis[Symbol.for("execmem-lab.display")]` (by kernel/display.ts); outside
 * it, `display()` and `progress()` fall back to plain text on the console.
 *
 * Objects render themselves with Deno's convention: a method under `Symbol.for("Jupyter.display")`
 * that returns a MIME bundle, e.g. `{"text/html": "...", "text/plain": "..."}`.
 */
import { inspect } from "util";

/** Deno's convention: an object with a method under this symbol renders itself. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;
/** Where the kernel installs its {@link DisplayHook}. */
export const DISPLAY_HOOK: unique symbol = Symbol.for("execmem-lab.display") as never;
/**
 * A value carrying `[QUIET] = true` prints nothing when it is a cell's last expression in the
 * kernel (display handles and progress bars carry it, so `display(x)` at the end of a cell shows
 * x once and not also its handle).
 */
export const QUIET: unique symbol = Symbol.for("execmem-lab.quiet") as never;
/** MIME type of a notebook's summary line; the report's index renders these as a table. */
export const SUMMARY_MIME = "application/vnd.execmem-lab.summary+json";
/** MIME type of a plotly figure ({data, layout, config}). */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** A MIME bundle: MIME type -> data (string, or JSON for `+json` types). */
export type MimeBundle = { [mime: string]: unknown };

export interface DisplayOptions {
  /** Metadata per MIME type, passed through to the notebook output. */
  metadata?: { [mime: string]: unknown };
}

/** A displayed output that can be replaced in place. */
export interface DisplayHandle {
  /** The display id (update_display_data target) or "" outside the kernel. */
  readonly id: string;
  /** Replace the displayed output by the rendering of `x`. */
  update(x: unknown): void;
}

/** What kernel/display.ts installs at `globalThis[DISPLAY_HOOK]`. */
export interface DisplayHook {
  display(
    bundle: MimeBundle,
    opts: DisplayOptions,
  ): { readonly id: string; update(bundle: MimeBundle): void };
}

/** Something that renders itself (Deno's `Symbol.for("Jupyter.display")` convention). */
export interface SelfDisplaying {
  [JUPYTER_DISPLAY](): MimeBundle;
}

function quiet<T extends object>(o: T): T {
  Object.defineProperty(o, QUIET, { value: true, enumerable: false });
  return o;
}

function currentHook(): DisplayHook | undefined {
  const hook = (globalThis as { [DISPLAY_HOOK]?: unknown })[DISPLAY_HOOK];
  if (hook && typeof (hook as DisplayHook).display === "function") return hook as DisplayHook;
  return undefined;
}

/** True when running inside the execmem-lab kernel (a display hook is installed). */
export function inKernel(): boolean {
  return currentHook() !== undefined;
}

function isSelfDisplaying(x: unknown): x is SelfDisplaying {
  return (
    (typeof x === "object" || typeof x === "function") &&
    x !== null &&
    typeof (x as { [JUPYTER_DISPLAY]?: unknown })[JUPYTER_DISPLAY] === "function"
  );
}

/**
 * The MIME bundle of `x`: its own `[Symbol.for("Jupyter.display")]()` if it has one, else
 * `text/plain` (strings as they are, other values through util.inspect). A `text/plain`
 * entry is always present.
 */
export function toBundle(x: unknown): MimeBundle {
  if (isSelfDisplaying(x)) {
    const bundle: unknown = x[JUPYTER_DISPLAY]();
    if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) {
      throw new TypeError(
        `display(x): x[Symbol.for("Jupyter.display")]() returned ${inspect(bundle)}; ` +
          `expected an object mapping MIME types to data, e.g. {"text/plain": "..."}`,
      );
    }
    const out: MimeBundle = { ...(bundle as MimeBundle) };
    for (const key of Object.keys(out)) {
      if (!/^[\w.+-]+\/[\w.+-]+$/.test(key)) {
        throw new TypeError(
          `display(x): x[Symbol.for("Jupyter.display")]() returned the key ${JSON.stringify(key)}, ` +
            `which is not a MIME type (type/subtype)`,
        );
      }
    }
    if (typeof out["text/plain"] !== "string") {
      out["text/plain"] = Object.keys(out).length
        ? `<${Object.keys(out).join(", ")}>`
        : inspect(x, { depth: 2 });
    }
    return out;
  }
  return { "text/plain": typeof x === "string" ? x : inspect(x, { depth: 4 }) };
}

/**
 * Display `x` as one output with its full MIME bundle. Returns a handle whose `update(y)`
 * replaces that output in place (update_display_data) inside the kernel; outside the kernel
 * both print `text/plain` to the console.
 */
export function display(x: unknown, opts: DisplayOptions = {}): DisplayHandle {
  const bundle = toBundle(x);
  const hook = currentHook();
  if (!hook) {
    console.log(String(bundle["text/plain"]));
    return quiet({
      id: "",
      update: (y: unknown) => console.log(String(toBundle(y)["text/plain"])),
    });
  }
  const handle = hook.display(bundle, opts);
  return quiet({ id: handle.id, update: (y: unknown) => handle.update(toBundle(y)) });
}

/** A progress display, updated in place inside the kernel. */
export interface ProgressBar {
  /** Units done so far. */
  readonly done: number;
  readonly total: number;
  /** Set the units done (0..total) and an optional note. */
  update(done: number, note?: string): void;
  /** Add `n` (default 1) units done. */
  tick(n?: number, note?: string): void;
  /** Mark as complete (done = total) and show the final state. */
  finish(note?: string): void;
}

/** `s` with the characters HTML gives a meaning to written as character references. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function progressBundle(label: string, done: number, total: number, note: string): MimeBundle {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const pct = Math.round(frac * 100);
  const width = 30;
  const filled = Math.round(frac * width);
  const text =
    `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${pct}%` +
    (note ? ` ${note}` : "");
  const html =
    `<div class="execmem-lab-progress" style="font-family:sans-serif;font-size:13px">` +
    `<span>${escapeHtml(label)}</span> ` +
    `<progress value="${done}" max="${total}" style="width:20em;vertical-align:middle"></progress> ` +
    `<span>${done}/${total} (${pct}%)${note ? " " + escapeHtml(note) : ""}</span></div>`;
  return { "text/html": html, "text/plain": text };
}

/**
 * A progress bar for long explorations. In the kernel it is one output updated in place
 * (throttled to about 10 updates a second); outside it, text lines at most every 2 s.
 */
export function progress(label: string, total: number): ProgressBar {
  if (typeof label !== "string") {
    throw new TypeError(`progress(label, total): label must be a string, got ${inspect(label)}`);
  }
  if (typeof total !== "number" || !Number.isFinite(total) || total < 0) {
    throw new RangeError(
      `progress(${JSON.stringify(label)}, total): total must be a finite number >= 0, got ${inspect(total)}`,
    );
  }
  const hook = currentHook();
  const minInterval = hook ? 100 : 2000;
  let done = 0;
  let note = "";
  let last = 0;
  let finished = false;
  const render = () => progressBundle(label, done, total, note);
  const handle = hook ? hook.display(render(), {}) : undefined;
  if (!hook) console.log(String(render()["text/plain"]));
  last = Date.now();
  const show = (force: boolean) => {
    const now = Date.now();
    if (!force && now - last < minInterval) return;
    last = now;
    if (handle) handle.update(render());
    else console.log(String(render()["text/plain"]));
  };
  const p: ProgressBar = {
    get done() {
      return done;
    },
    total,
    update(value: number, n?: string) {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new RangeError(
          `progress(${JSON.stringify(label)}).update(done): done must be a finite number >= 0, got ${inspect(value)}`,
        );
      }
      done = Math.min(value, total);
      if (n !== undefined) note = n;
      show(false);
    },
    tick(n = 1, msg?: string) {
      p.update(done + n, msg);
    },
    finish(msg?: string) {
      if (finished) return;
      finished = true;
      done = total;
      if (msg !== undefined) note = msg;
      show(true);
    },
  };
  return quiet(p);
}

/** A plotly figure as plotly.js takes it. */
export interface PlotlyFigure {
  data: unknown[];
  layout?: { [key: string]: unknown };
  config?: { [key: string]: unknown };
}

/**
 * A figure made to fit the column it is drawn in: its fixed `layout.width` (pixels) becomes the
 * maximum width of its container, and plotly.js sizes it to the container (autosize, responsive),
 * so a wide figure shrinks with the page instead of overflowing and a narrow one keeps its size.
 */
export function fitToColumn(figure: PlotlyFigure): {
  figure: PlotlyFigure;
  maxWidth: number | null;
} {
  const layout = { ...(figure.layout ?? {}) };
  const width = typeof layout["width"] === "number" ? (layout["width"] as number) : null;
  delete layout["width"];
  layout["autosize"] = true;
  return {
    figure: { data: figure.data, layout, config: { responsive: true, ...(figure.config ?? {}) } },
    maxWidth: width,
  };
}

/** The one-line text of a plotly figure: its title and number of traces. */
export function plotlyText(figure: PlotlyFigure): string {
  const title = figureTitle(figure.layout ?? {});
  const n = figure.data.length;
  return `Plotly figure${title ? ` "${title}"` : ""}: ${n} trace${n === 1 ? "" : "s"}`;
}

/**
 * The MIME bundle of a plotly figure: `application/vnd.plotly.v1+json` (rendered by JupyterLab
 * with the plotly extension, VS Code and the execmem-lab report) and `text/plain`. Inside the
 * kernel a `text/html` fallback is added for front ends without a plotly renderer (see
 * docs/kernel.md).
 * @throws {TypeError} when `figure.data` is not an array.
 */
export function plotlyBundle(figure: PlotlyFigure): MimeBundle {
  if (typeof figure !== "object" || figure === null || !Array.isArray(figure.data)) {
    throw new TypeError(
      `plotlyBundle(figure): figure.data must be an array of traces, got ${inspect(figure, { depth: 1 })}`,
    );
  }
  const fig = { data: figure.data, layout: figure.layout ?? {}, config: figure.config ?? {} };
  return { [PLOTLY_MIME]: fig, "text/plain": plotlyText(fig) };
}

function figureTitle(layout: { [key: string]: unknown }): string {
  const t = layout["title"];
  if (typeof t === "string") return t;
  if (t && typeof t === "object" && typeof (t as { text?: unknown }).text === "string") {
    return (t as { text: string }).text;
  }
  return "";
}

/** A notebook's one-line summary for the report's index. */
export interface NotebookSummary {
  /** The argument id, e.g. "A2". */
  argument: string;
  /** The claim, in a few words. */
  claim: string;
  /** What the model found. */
  finding: string;
}

/** The MIME bundle of a summary ({@link SUMMARY_MIME} + text/html + text/plain). */
export function summaryBundle(s: NotebookSummary): MimeBundle {
  if (typeof s !== "object" || s === null) {
    throw new TypeError(`summary(s): s must be {argument, claim, finding}, got ${inspect(s)}`);
  }
  for (const field of ["argument", "claim", "finding"] as const) {
    if (typeof s[field] !== "string" || s[field].trim() === "") {
      throw new TypeError(
        `summary(s): s.${field} must be a non-empty string, got ${inspect(s[field])}`,
      );
    }
  }
  const data = { argument: s.argument, claim: s.claim, finding: s.finding };
  return {
    [SUMMARY_MIME]: data,
    "text/html":
      `<table class="execmem-lab-summary"><tr><th>Argument</th><th>Claim</th><th>Finding</th></tr>` +
      `<tr><td>${escapeHtml(data.argument)}</td><td>${escapeHtml(data.claim)}</td>` +
      `<td>${escapeHtml(data.finding)}</td></tr></table>`,
    "text/plain": `${data.argument}: ${data.claim} -> ${data.finding}`,
  };
}

/** Publish this notebook's summary line (shown in the report's index). */
export function summary(s: NotebookSummary): DisplayHandle {
  const bundle = summaryBundle(s);
  return display({ [JUPYTER_DISPLAY]: () => bundle });
}

const escapeCell = (s: unknown): string =>
  String(s).replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string,
  );

/** A value that renders as a table: HTML in a notebook and the report, aligned text elsewhere. */
export function table(rows: Record<string, unknown>[], caption = ""): SelfDisplaying {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  const html =
    `<table>${caption ? `<caption style="text-align:left;font-weight:bold">${escapeCell(caption)}</caption>` : ""}` +
    `<thead><tr>${cols.map((c) => `<th>${escapeCell(c)}</th>`).join("")}</tr></thead><tbody>` +
    rows
      .map(
        (r) =>
          `<tr>${cols.map((c) => `<td style="text-align:left">${escapeCell(cell(r[c]))}</td>`).join("")}</tr>`,
      )
      .join("") +
    `</tbody></table>`;
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vs: string[]) =>
    vs
      .map((v, i) => v.padEnd(w[i]))
      .join("  ")
      .trimEnd();
  const text = [
    caption,
    line(cols),
    line(w.map((n) => "-".repeat(n))),
    ...rows.map((r) => line(cols.map((c) => cell(r[c])))),
  ]
    .filter((l) => l !== "")
    .join("\n");
  return { [JUPYTER_DISPLAY]: () => ({ "text/html": html, "text/plain": text }) };
}

/** A value that renders as Markdown (conclusions written from what a run found). */
export function md(text: string): SelfDisplaying {
  return { [JUPYTER_DISPLAY]: () => ({ "text/markdown": text, "text/plain": text }) };
}
