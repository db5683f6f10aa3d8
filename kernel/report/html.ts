/**
 * The HTML report: one standalone page per executed notebook (markdown rendered, code
 * highlighted, plotly charts interactive offline with plotly.js from the npm package (one
 * plotly.min.js file beside the pages, or inlined in a page rendered alone), sized to the column,
 * errors in place) and an index page with each notebook's status and summary lines.
 */
import { readFileSync } from "fs";
import hljs from "highlight.js/lib/core";
import typescript from "highlight.js/lib/languages/typescript";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import bash from "highlight.js/lib/languages/bash";
import MarkdownIt from "markdown-it";
import { PLOTLY_MIME, SUMMARY_MIME, escapeHtml, fitToColumn } from "execmem-lab/dist/display";
import type { NotebookSummary } from "execmem-lab/dist/display";
import type { CellFailure, CellStatus } from "../runner/execute";
import { joinSource, type Cell, type Notebook, type Output } from "../runner/notebook";

hljs.registerLanguage("typescript", typescript);
hljs.registerLanguage("javascript", javascript);
hljs.registerLanguage("json", json);
hljs.registerLanguage("bash", bash);

/** Text safe inside an inline <script> element. */
export function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

function jsonForScript(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function highlight(code: string, lang: string): string {
  const language = hljs.getLanguage(lang) ? lang : "typescript";
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}

function createMarkdown() {
  const md = new MarkdownIt({
    html: true,
    linkify: true,
    highlight: (code, lang) => (lang && hljs.getLanguage(lang) ? highlight(code, lang) : ""),
  });
  // Links between notebooks point at their report pages.
  const defaultOpen =
    md.renderer.rules.link_open ??
    ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const href = String(tokens[idx].attrGet("href") ?? "");
    if (href && !/^[a-z]+:/i.test(href))
      tokens[idx].attrSet("href", href.replace(/\.ipynb(#|$)/, ".html$1"));
    return defaultOpen(tokens, idx, options, env, self);
  };
  return md;
}

const md = createMarkdown();

export function renderMarkdown(src: string): string {
  return md.render(src);
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** File name of the shared plotly.js the runner writes beside the report's pages. */
export const PLOTLY_FILE = "plotly.min.js";

/** Path of plotly.js in the plotly.js-dist-min package (never a CDN). */
export function plotlyJsPath(): string {
  return require.resolve("plotly.js-dist-min");
}

let cachedPlotly: string | undefined;
/** plotly.js from the plotly.js-dist-min package (never a CDN), safe to inline. */
export function plotlyJs(): string {
  cachedPlotly ??= scriptSafe(readFileSync(require.resolve("plotly.js-dist-min"), "utf8"));
  return cachedPlotly;
}

let cachedHljsCss: string | undefined;
function hljsCss(): string {
  cachedHljsCss ??= readFileSync(require.resolve("highlight.js/styles/github.css"), "utf8");
  return cachedHljsCss;
}

const CSS = `
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1100px;margin:0 auto;padding:1em 2em;color:#1f2328;line-height:1.5}
a{color:#0969da}
pre{background:#f6f8fa;padding:.6em .8em;border-radius:6px;overflow-x:auto;font-size:13px;line-height:1.4;margin:.3em 0}
.cell{margin:1em 0}
.code .prompt{color:#57606a;font-family:monospace;font-size:12px}
.code pre.source{border-left:3px solid #d0d7de}
.output{margin-left:1em}
.output pre.stderr{background:#fff5f5}
.output pre.error,.failure{background:#ffebe9;border:1px solid #ff8182;color:#82071e;padding:.6em .8em;border-radius:6px;white-space:pre-wrap}
.failure{font-family:monospace;font-size:13px;margin:.3em 0 0 1em}
.not-run{opacity:.5}
.not-run .note{font-style:italic;color:#57606a;font-size:13px}
.banner{padding:.6em 1em;border-radius:6px;margin:1em 0;font-weight:600}
.banner.passed{background:#dafbe1;border:1px solid #4ac26b}
.banner.failed{background:#ffebe9;border:1px solid #ff8182;color:#82071e}
.banner.running{background:#fff8c5;border:1px solid #d4a72c}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.status-passed{color:#1a7f37;font-weight:600}
.status-failed{color:#cf222e;font-weight:600}
.status-running{color:#9a6700;font-weight:600}
.plotly-chart{width:100%;min-height:200px}
.meta{color:#57606a;font-size:13px}
`;

function page(title: string, body: string, head = ""): string {
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${CSS}${hljsCss()}</style>${head}</head>` +
    `<body>${body}</body></html>\n`
  );
}

interface RenderContext {
  plots: number;
  prefix: string;
}

function asText(v: unknown): string {
  return Array.isArray(v) ? v.join("") : String(v ?? "");
}

function renderSummaryTable(rows: NotebookSummary[]): string {
  return (
    `<table class="summary"><tr><th>Argument</th><th>Claim</th><th>Finding</th></tr>` +
    rows
      .map(
        (s) =>
          `<tr><td>${escapeHtml(String(s.argument))}</td><td>${escapeHtml(String(s.claim))}</td>` +
          `<td>${escapeHtml(String(s.finding))}</td></tr>`,
      )
      .join("") +
    `</table>`
  );
}

function renderData(data: Record<string, unknown>, ctx: RenderContext): string {
  const plot = data[PLOTLY_MIME] as
    { data?: unknown; layout?: unknown; config?: unknown } | undefined;
  if (plot && typeof plot === "object") {
    const id = `${ctx.prefix}plot-${ctx.plots++}`;
    const { figure, maxWidth } = fitToColumn({
      data: Array.isArray(plot.data) ? plot.data : [],
      layout: (plot.layout as Record<string, unknown> | undefined) ?? {},
      config: (plot.config as Record<string, unknown> | undefined) ?? {},
    });
    const style = maxWidth ? ` style="max-width:${maxWidth}px"` : "";
    return (
      `<div class="plotly-chart" id="${id}"${style}></div><script>Plotly.newPlot(${jsonForScript(id)},` +
      `${jsonForScript(figure.data)},${jsonForScript(figure.layout)},${jsonForScript(figure.config)});</script>`
    );
  }
  const summary = data[SUMMARY_MIME] as NotebookSummary | undefined;
  if (summary && typeof summary === "object") return renderSummaryTable([summary]);
  if (data["text/html"] !== undefined)
    return `<div class="html">${asText(data["text/html"])}</div>`;
  if (data["image/svg+xml"] !== undefined)
    return `<div class="svg">${asText(data["image/svg+xml"])}</div>`;
  for (const img of ["image/png", "image/jpeg", "image/gif"]) {
    if (typeof data[img] === "string") {
      return `<img alt="" src="data:${img};base64,${asText(data[img]).replace(/\s/g, "")}">`;
    }
  }
  if (data["text/markdown"] !== undefined) return renderMarkdown(asText(data["text/markdown"]));
  if (data["application/json"] !== undefined) {
    return `<pre>${highlight(JSON.stringify(data["application/json"], null, 2), "json")}</pre>`;
  }
  if (data["text/plain"] !== undefined)
    return `<pre>${escapeHtml(asText(data["text/plain"]).replace(ANSI, ""))}</pre>`;
  return `<pre class="meta">(output with ${escapeHtml(Object.keys(data).join(", "))})</pre>`;
}

export function renderOutput(o: Output, ctx: RenderContext): string {
  switch (o.output_type) {
    case "stream":
      return `<pre class="${o.name}">${escapeHtml(joinSource(o.text).replace(ANSI, ""))}</pre>`;
    case "error": {
      const tb = o.traceback.length ? o.traceback.join("\n") : `${o.ename}: ${o.evalue}`;
      const head = tb.includes(o.evalue) ? "" : `${o.ename}: ${o.evalue}\n`;
      return `<pre class="error">${escapeHtml((head + tb).replace(ANSI, ""))}</pre>`;
    }
    default:
      return renderData(o.data, ctx);
  }
}

function renderCell(
  cell: Cell,
  i: number,
  status: CellStatus | undefined,
  failures: CellFailure[],
  ctx: RenderContext,
): string {
  const src = joinSource(cell.source);
  if (cell.cell_type === "markdown")
    return `<div class="cell markdown">${renderMarkdown(src)}</div>`;
  if (cell.cell_type !== "code") return `<div class="cell raw"><pre>${escapeHtml(src)}</pre></div>`;
  const notRun = status?.state === "not-run";
  const prompt = `In [${cell.execution_count ?? " "}]:`;
  const fails = failures
    .filter((f) => f.cell === i && f.kind === "check")
    .map((f) => `<div class="failure">${escapeHtml(f.message)}</div>`)
    .join("");
  return (
    `<div class="cell code${notRun ? " not-run" : ""}" id="cell-${i + 1}">` +
    `<div class="prompt">${prompt}${status?.durationMs !== undefined ? ` <span class="meta">${(status.durationMs / 1000).toFixed(2)} s</span>` : ""}</div>` +
    `<pre class="source"><code class="hljs language-typescript">${highlight(src, "typescript")}</code></pre>` +
    (notRun ? `<div class="note">not executed: an earlier cell failed</div>` : "") +
    `<div class="output">${cell.outputs.map((o) => renderOutput(o, ctx)).join("")}</div>${fails}</div>`
  );
}

export interface NotebookPage {
  /** Notebook path shown as the title, e.g. "notebooks/00-tour.ipynb". */
  title: string;
  notebook: Notebook;
  cells: CellStatus[];
  failures: CellFailure[];
  durationMs: number;
  /** Link back to the index, relative to the page. */
  indexHref: string;
  /** File name of the executed .ipynb next to the page. */
  ipynbHref: string;
  /**
   * plotly.js as a file shared by the pages (relative to the page); without it plotly.js is
   * inlined in the page (about 4.8 MB).
   */
  plotlyHref?: string;
}

/** A standalone HTML page for one executed notebook. */
export function renderNotebookPage(p: NotebookPage): string {
  const ctx: RenderContext = { plots: 0, prefix: "nb-" };
  const cells = p.notebook.cells
    .map((c, i) => renderCell(c, i, p.cells[i], p.failures, ctx))
    .join("\n");
  const failed = p.failures.length > 0;
  const banner = failed
    ? `<div class="banner failed">FAILED: ${p.failures
        .map(
          (f) =>
            `<a href="#cell-${f.cell + 1}">${escapeHtml(f.label)}</a>: ${escapeHtml(f.message)}`,
        )
        .join("<br>")}</div>`
    : `<div class="banner passed">Passed: every cell ran in ${(p.durationMs / 1000).toFixed(1)} s</div>`;
  const body =
    `<p class="meta"><a href="${escapeHtml(p.indexHref)}">&larr; index</a> &middot; ` +
    `<a href="${escapeHtml(p.ipynbHref)}">executed notebook (.ipynb)</a></p>` +
    `<h1 class="title">${escapeHtml(p.title)}</h1>${banner}\n${cells}`;
  const head =
    ctx.plots === 0
      ? ""
      : p.plotlyHref
        ? `<script src="${escapeHtml(p.plotlyHref)}"></script>`
        : `<script>${plotlyJs()}</script>`;
  return page(p.title, body, head);
}

export interface IndexEntry {
  /** Notebook path, e.g. "notebooks/00-tour.ipynb". */
  notebook: string;
  status: "passed" | "failed" | "running";
  /** Page link relative to the index, "" when there is none. */
  href: string;
  durationMs?: number;
  /** Of durationMs, the time spent waiting for the kernel: its start, or its reset if reused. */
  kernelMs?: number;
  failures: { label: string; message: string }[];
  summaries: NotebookSummary[];
}

/** The index page: one row per notebook with its status and its summary lines. */
export function renderIndexPage(entries: IndexEntry[], generated: Date): string {
  const passed = entries.filter((e) => e.status === "passed").length;
  const rows = entries
    .map((e) => {
      const name = e.href
        ? `<a href="${escapeHtml(e.href)}">${escapeHtml(e.notebook)}</a>`
        : escapeHtml(e.notebook);
      const status =
        e.status === "failed"
          ? `<span class="status-failed">FAILED</span><br>${e.failures
              .map((f) => `${escapeHtml(f.label)}: ${escapeHtml(f.message)}`)
              .join("<br>")}`
          : e.status === "running"
            ? `<span class="status-running">incomplete</span> (run started, not finished)`
            : `<span class="status-passed">passed</span>`;
      const time =
        e.durationMs !== undefined
          ? `${(e.durationMs / 1000).toFixed(1)} s` +
            (e.kernelMs !== undefined && e.kernelMs >= 0
              ? `<br><span class="meta">kernel ${(e.kernelMs / 1000).toFixed(1)} s</span>`
              : "")
          : "";
      const summaries = e.summaries.length ? e.summaries : [undefined];
      return summaries
        .map(
          (s, k) =>
            `<tr class="notebook-${e.status}">` +
            (k === 0
              ? `<td rowspan="${summaries.length}">${name}</td><td rowspan="${summaries.length}">${status}</td>` +
                `<td rowspan="${summaries.length}">${time}</td>`
              : "") +
            (s
              ? `<td>${escapeHtml(String(s.argument))}</td><td>${escapeHtml(String(s.claim))}</td><td>${escapeHtml(String(s.finding))}</td>`
              : `<td></td><td></td><td></td>`) +
            `</tr>`,
        )
        .join("");
    })
    .join("\n");
  const body =
    `<h1>execmem-lab report</h1>` +
    `<p class="meta">Generated ${escapeHtml(generated.toISOString())} &middot; ${passed} of ${entries.length} notebooks passed</p>` +
    `<table class="index"><tr><th>Notebook</th><th>Status</th><th>Time</th><th>Argument</th><th>Claim</th><th>Finding</th></tr>\n${rows}</table>`;
  return page("execmem-lab report", body);
}
