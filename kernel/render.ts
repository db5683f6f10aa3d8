/**
 * Renders plotly figures to PNG or SVG with headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core; no browser is downloaded) and plotly.js from node_modules (no CDN). One browser
 * serves many figures, drawn on a few pages at once.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "fs";
import { createServer } from "http";
import type { AddressInfo } from "net";
import { availableParallelism, tmpdir } from "os";
import { writeFileAtomic } from "./files";
import { extname, join } from "path";
import type { BrowserContext, Page } from "playwright-core";

/** A plotly figure as JSON. */
export interface FigureJSON {
  data: unknown[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export type ImageFormat = "png" | "svg";

export interface RenderOptions {
  format?: ImageFormat;
  /** Pixel size (default: the figure's layout.width/height, else 900 × 600). */
  width?: number;
  height?: number;
  /** Device pixel ratio of PNGs (default 1). */
  scale?: number;
}

export interface BrowserOptions {
  /** Chromium binary (default $EXECMEM_LAB_CHROMIUM, else /usr/bin/chromium). */
  executablePath?: string;
  /** Timeout of one figure in ms (default 60 s). */
  timeoutMs?: number;
}

/** What drawing one figure did in the page. */
export interface DrawResult {
  /** Traces plotly.js drew (gd._fullData.length). */
  fullData: number;
  /** Trace groups in the SVG (g.trace, and g.hm for heatmaps). */
  traceNodes: number;
  /** Time of Plotly.newPlot until the next animation frame, in ms. */
  ms: number;
  /** Console errors and page errors since the last draw. */
  errors: string[];
}

export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The Chromium binary to use, or null when there is none. */
export function chromiumPath(explicit?: string): string | null {
  const p = explicit ?? process.env.EXECMEM_LAB_CHROMIUM ?? "/usr/bin/chromium";
  return existsSync(p) ? p : null;
}

/** Path of plotly.js in node_modules. */
export function plotlyPath(): string {
  return require.resolve("plotly.js-dist-min");
}

const page = (script: string) => `<!doctype html><html><head><meta charset="utf-8">
<link rel="icon" href="data:,"><style>
html,body{margin:0;padding:0;background:#fff}#gd{display:inline-block}
</style><script src="${script}"></script></head><body><div id="gd"></div></body></html>`;

const PAGE_HOST = "execmem-lab.localhost";

/**
 * The drawing page and plotly.js, served on 127.0.0.1 to this process's browser. Served over
 * HTTP with a long cache lifetime, plotly.js (3.5 MB) is compiled once: V8 keeps its code in the
 * browser's HTTP cache, so later pages (and later runs, see cacheDir) load it in a fraction of
 * the time.
 */
async function servePage(): Promise<{ url: string; args: string[]; close(): void }> {
  const path = plotlyPath();
  const body = readFileSync(path);
  const script = `/plotly.js?v=${body.length}-${Math.round(statSync(path).mtimeMs)}`;
  const server = createServer((req, res) => {
    if (req.url === script) {
      res
        .writeHead(200, {
          "content-type": "text/javascript",
          "cache-control": "public, max-age=31536000, immutable",
        })
        .end(body);
    } else if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end(page(script));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  server.unref();
  const { port } = server.address() as AddressInfo;
  // One origin whatever the port, so that the cache of an earlier run applies.
  return {
    url: `http://${PAGE_HOST}/`,
    args: [`--host-resolver-rules=MAP ${PAGE_HOST} 127.0.0.1:${port}`],
    close: () => server.close(),
  };
}

/**
 * A browser cache folder kept across runs (in the temp folder), one per browser open at once:
 * a slot is taken by writing our pid into its lock file, and is free again when that process
 * is gone. Null when all slots are taken (the browser then caches in its fresh profile only).
 */
function cacheDir(): { dir: string; release(): void } | null {
  const base = join(tmpdir(), `execmem-lab-chromium-cache-${process.getuid?.() ?? "user"}`);
  mkdirSync(base, { recursive: true });
  for (let slot = 0; slot < 4; slot++) {
    const lock = join(base, `${slot}.lock`);
    try {
      const pid = Number(readFileSync(lock, "utf8"));
      if (pid && pid !== process.pid && alive(pid)) continue;
      rmSync(lock, { force: true });
    } catch {
      // no lock: free
    }
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
    } catch {
      continue; // taken meanwhile
    }
    return { dir: join(base, String(slot)), release: () => rmSync(lock, { force: true }) };
  }
  return null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A headless browser with plotly.js loaded, for drawing and rendering figures one after another. */
export class FigureRenderer {
  private errors: string[] = [];

  private constructor(
    private readonly context: BrowserContext,
    private readonly page: Page,
    private readonly url: string,
    /** Cleans up the browser's files when this renderer owns the browser, null for a page of another's. */
    private readonly done: (() => void) | null,
    private readonly timeoutMs: number,
  ) {
    page.on("console", (m) => {
      if (m.type() === "error") this.errors.push(m.text());
    });
    page.on("pageerror", (e) => this.errors.push(String(e)));
  }

  static async open(opts: BrowserOptions = {}): Promise<FigureRenderer> {
    const executablePath = chromiumPath(opts.executablePath);
    if (!executablePath) {
      throw new Error(
        `Chromium not found at ${opts.executablePath ?? process.env.EXECMEM_LAB_CHROMIUM ?? "/usr/bin/chromium"}: ` +
          `install Debian's chromium (apt-get install chromium) or set EXECMEM_LAB_CHROMIUM`,
      );
    }
    const { chromium } = await import("playwright-core");
    const profile = mkdtempSync(join(tmpdir(), "execmem-lab-chromium-"));
    const served = await servePage();
    const cache = cacheDir();
    let context: BrowserContext | undefined;
    const done = () => {
      served.close();
      cache?.release();
      rmSync(profile, { recursive: true, force: true });
    };
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath,
        headless: true,
        args: [
          ...CHROMIUM_ARGS,
          // Nothing leaves the page: every request but those to loopback (our page and
          // plotly.js from node_modules) goes to a proxy that does not exist.
          "--proxy-server=http://127.0.0.1:9",
          ...served.args,
          ...(cache ? [`--disk-cache-dir=${cache.dir}`] : []),
        ],
        viewport: { width: 1600, height: 1200 },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const timeoutMs = opts.timeoutMs ?? 60_000;
      await preparePage(page, served.url, timeoutMs);
      return new FigureRenderer(context, page, served.url, done, timeoutMs);
    } catch (e) {
      await context?.close().catch(() => undefined);
      done();
      if (!context) {
        // Playwright's message carries the browser's whole log: keep its first line.
        const first = ((e as Error).message ?? String(e)).split("\n")[0];
        throw new Error(
          `Chromium failed to start (${executablePath}): ${first}; point --chromium or EXECMEM_LAB_CHROMIUM at a working Chromium (Debian: apt-get install chromium)`,
        );
      }
      throw e;
    }
  }

  /** Draws a figure into the page (replacing the last one) and reports what was drawn. */
  async draw(fig: FigureJSON, opts: RenderOptions = {}): Promise<DrawResult> {
    this.errors = [];
    const size = sizeOf(fig, opts);
    // A JSON string crosses into the page much faster than a structured argument.
    const r = await this.page.evaluate(
      async ({ json, size }) => {
        const fig = JSON.parse(json) as FigureJSON;
        const g = globalThis as unknown as PageGlobals;
        const P = g.Plotly;
        const gd = g.document.getElementById("gd");
        P.purge(gd);
        const layout = { ...(fig.layout ?? {}), width: size.width, height: size.height };
        const t0 = performance.now();
        await P.newPlot(gd, fig.data, layout, {
          ...(fig.config ?? {}),
          displayModeBar: false,
          responsive: false,
        });
        await new Promise((res) => g.requestAnimationFrame(() => res(null)));
        const ms = performance.now() - t0;
        return {
          fullData: gd._fullData ? gd._fullData.length : 0,
          traceNodes: gd.querySelectorAll("g.trace, g.hm").length,
          ms,
        };
      },
      { json: JSON.stringify(fig), size },
    );
    return { ...r, errors: [...this.errors] };
  }

  /** Another page of the same browser, with plotly.js loaded: figures render in parallel. */
  async newPage(): Promise<FigureRenderer> {
    const page = await this.context.newPage();
    await preparePage(page, this.url, this.timeoutMs);
    return new FigureRenderer(this.context, page, this.url, null, this.timeoutMs);
  }

  /** Renders a figure to an image (plotly.js draws it once, off-screen, for the image). */
  async render(fig: FigureJSON, opts: RenderOptions = {}): Promise<Buffer> {
    this.errors = [];
    const format = opts.format ?? "png";
    checkImageSize(fig, opts);
    const size = sizeOf(fig, opts);
    const url = await this.page.evaluate(
      async ({ json, format, size, scale }) => {
        const fig = JSON.parse(json) as FigureJSON;
        const g = globalThis as unknown as PageGlobals;
        const layout = { ...(fig.layout ?? {}), width: size.width, height: size.height };
        return g.Plotly.toImage(
          { data: fig.data, layout, config: fig.config ?? {} },
          { format, width: size.width, height: size.height, scale },
        );
      },
      { json: JSON.stringify(fig), format, size, scale: opts.scale ?? 1 },
    );
    if (this.errors.length)
      throw new Error(`rendering the figure logged errors: ${this.errors.join("; ")}`);
    const img = decodeDataUrl(url);
    if (img.length === 0) throw new Error(`plotly.js returned an empty ${format} image`);
    return img;
  }

  /** Console errors since the last draw. */
  consoleErrors(): string[] {
    return [...this.errors];
  }

  get timeout(): number {
    return this.timeoutMs;
  }

  async close(): Promise<void> {
    if (this.done === null) {
      await this.page.close();
      return;
    }
    try {
      await this.context.close();
    } finally {
      this.done();
    }
  }
}

/** Load the drawing page and plotly.js (from node_modules, see servePage) into `page`. */
async function preparePage(page: Page, url: string, timeoutMs: number): Promise<void> {
  page.setDefaultTimeout(timeoutMs);
  await page.goto(url);
  await page.waitForFunction(
    () => typeof (globalThis as unknown as { Plotly?: unknown }).Plotly === "object",
  );
}

/** What the page offers the code evaluated in it (typed here without the DOM library). */
interface PageElement {
  _fullData?: unknown[];
  querySelectorAll(selector: string): { length: number };
}

interface PageGlobals {
  Plotly: {
    purge(gd: PageElement): void;
    newPlot(gd: PageElement, data: unknown[], layout: unknown, config: unknown): Promise<unknown>;
    toImage(
      gd: PageElement | { data: unknown[]; layout: unknown; config: unknown },
      opts: { format: string; width: number; height: number; scale: number },
    ): Promise<string>;
  };
  document: { getElementById(id: string): PageElement };
  requestAnimationFrame(cb: () => void): number;
}

/**
 * Largest image side in pixels (size × scale): Chromium's canvas is limited to 16384 per side,
 * beyond which toImage returns an empty image.
 */
export const MAX_IMAGE_SIDE = 16384;
/** Smallest figure side: plotly needs room for its margins. */
export const MIN_FIGURE_SIDE = 10;

function sizeOf(fig: FigureJSON, opts: RenderOptions): { width: number; height: number } {
  const lw = fig.layout?.width;
  const lh = fig.layout?.height;
  return {
    width: opts.width ?? (typeof lw === "number" ? lw : 900),
    height: opts.height ?? (typeof lh === "number" ? lh : 600),
  };
}

/** Throws a RangeError naming the size that no image can have. */
export function checkImageSize(fig: FigureJSON, opts: RenderOptions): void {
  const { width, height } = sizeOf(fig, opts);
  const scale = opts.scale ?? 1;
  for (const [what, v] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isFinite(v) || v < MIN_FIGURE_SIDE)
      throw new RangeError(`figure ${what} ${v}: must be at least ${MIN_FIGURE_SIDE} px`);
    if (!(scale > 0) || v * scale > MAX_IMAGE_SIDE)
      throw new RangeError(
        `figure ${what} ${v} px × scale ${scale} = ${v * scale} px: an image side is at most ${MAX_IMAGE_SIDE} px`,
      );
  }
}

function decodeDataUrl(url: string): Buffer {
  const comma = url.indexOf(",");
  if (!url.startsWith("data:") || comma < 0)
    throw new Error(`plotly.js returned no image (${url.slice(0, 40)})`);
  const head = url.slice(0, comma);
  const body = url.slice(comma + 1);
  return head.endsWith(";base64")
    ? Buffer.from(body, "base64")
    : Buffer.from(decodeURIComponent(body), "utf8");
}

/** Checks that a value is a plotly figure ({data: [...], layout?}). */
export function assertFigure(x: unknown, where = "figure"): asserts x is FigureJSON {
  if (typeof x !== "object" || x === null || !Array.isArray((x as { data?: unknown }).data)) {
    throw new TypeError(`${where}: expected a plotly figure {"data": [...], "layout": {...}}`);
  }
}

/** Where figures are drawn: a browser of their own, or pages of an open renderer's browser. */
export interface RendererOption {
  /** Draw on new pages of this renderer's browser (closed afterwards) instead of starting one. */
  renderer?: FigureRenderer;
}

/**
 * Renders many figures with one browser and `pages` pages drawing at once (default: the core
 * count, at most 4, at most one per figure); images in the same order.
 */
export async function renderFigures(
  figures: readonly FigureJSON[],
  opts: RenderOptions & BrowserOptions & RendererOption & { pages?: number } = {},
): Promise<Buffer[]> {
  figures.forEach((f, i) => assertFigure(f, `renderFigures: figures[${i}]`));
  const pages = Math.max(
    1,
    Math.min(opts.pages ?? Math.min(4, availableParallelism()), figures.length),
  );
  const first = opts.renderer ? await opts.renderer.newPage() : await FigureRenderer.open(opts);
  const more: Promise<FigureRenderer>[] = [];
  try {
    // The other pages load plotly.js while the first one already draws.
    for (let k = 1; k < pages; k++) more.push(first.newPage());
    const out: Buffer[] = new Array<Buffer>(figures.length);
    let next = 0;
    const work = async (r: FigureRenderer) => {
      while (next < figures.length) {
        const i = next++;
        out[i] = await r.render(figures[i], opts);
      }
    };
    const started = more.map((p) => p.then((r) => work(r)));
    await Promise.all([work(first), ...started]);
    return out;
  } finally {
    await Promise.all(more.map((p) => p.then((r) => r.close()).catch(() => undefined)));
    await first.close();
  }
}

/** The image format an output file name asks for. */
export function formatOf(out: string): ImageFormat {
  const ext = extname(out).toLowerCase();
  if (ext === ".png") return "png";
  if (ext === ".svg") return "svg";
  throw new Error(`${out}: the output must end in .png or .svg`);
}

/** Renders a figure JSON file to OUT.png or OUT.svg (the `render` command). */
export async function renderFile(
  input: string,
  output: string,
  opts: RenderOptions & BrowserOptions & RendererOption = {},
): Promise<void> {
  const format = formatOf(output);
  let fig: unknown;
  try {
    fig = JSON.parse(readFileSync(input, "utf8"));
  } catch (e) {
    throw new Error(`${input}: cannot read a figure: ${(e as Error).message}`);
  }
  assertFigure(fig, input);
  checkImageSize(fig, opts);
  const [img] = await renderFigures([fig], { ...opts, format });
  // Complete or absent: an existing image is replaced only by a whole new one.
  writeFileAtomic(output, img);
}
