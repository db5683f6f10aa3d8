/**
 * Renders plotly figures to PNG or SVG with headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core; no browser is downloaded) and plotly.js from node_modules (no CDN). One browser
 * and one page serve many figures.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "fs";
import { tmpdir } from "os";
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

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;padding:0;background:#fff}#gd{display:inline-block}
</style></head><body><div id="gd"></div></body></html>`;

/** A headless browser with plotly.js loaded, for drawing and rendering figures one after another. */
export class FigureRenderer {
  private errors: string[] = [];

  private constructor(
    private readonly context: BrowserContext,
    private readonly page: Page,
    private readonly profile: string,
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
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath,
        headless: true,
        args: [...CHROMIUM_ARGS],
        viewport: { width: 1600, height: 1200 },
      });
      // Nothing leaves the page: plotly.js is injected from node_modules.
      await context.route("**/*", (route) => {
        const url = route.request().url();
        return url.startsWith("data:") || url === "about:blank" ? route.continue() : route.abort();
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const timeoutMs = opts.timeoutMs ?? 60_000;
      page.setDefaultTimeout(timeoutMs);
      await page.setContent(PAGE);
      await page.addScriptTag({ content: readFileSync(plotlyPath(), "utf8") });
      await page.waitForFunction(
        () => typeof (globalThis as unknown as { Plotly?: unknown }).Plotly === "object",
      );
      return new FigureRenderer(context, page, profile, timeoutMs);
    } catch (e) {
      await context?.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
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

  /** Renders a figure to an image. */
  async render(fig: FigureJSON, opts: RenderOptions = {}): Promise<Buffer> {
    const format = opts.format ?? "png";
    const size = sizeOf(fig, opts);
    const draw = await this.draw(fig, opts);
    const url = await this.page.evaluate(
      async ({ format, size, scale }) => {
        const g = globalThis as unknown as PageGlobals;
        return g.Plotly.toImage(g.document.getElementById("gd"), {
          format,
          width: size.width,
          height: size.height,
          scale,
        });
      },
      { format, size, scale: opts.scale ?? 1 },
    );
    if (draw.errors.length)
      throw new Error(`rendering the figure logged errors: ${draw.errors.join("; ")}`);
    return decodeDataUrl(url);
  }

  /** Console errors since the last draw. */
  consoleErrors(): string[] {
    return [...this.errors];
  }

  get timeout(): number {
    return this.timeoutMs;
  }

  async close(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      rmSync(this.profile, { recursive: true, force: true });
    }
  }
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
      gd: PageElement,
      opts: { format: string; width: number; height: number; scale: number },
    ): Promise<string>;
  };
  document: { getElementById(id: string): PageElement };
  requestAnimationFrame(cb: () => void): number;
}

function sizeOf(fig: FigureJSON, opts: RenderOptions): { width: number; height: number } {
  const lw = fig.layout?.width;
  const lh = fig.layout?.height;
  return {
    width: opts.width ?? (typeof lw === "number" ? lw : 900),
    height: opts.height ?? (typeof lh === "number" ? lh : 600),
  };
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

/** Renders many figures with one browser; images in the same order. */
export async function renderFigures(
  figures: readonly FigureJSON[],
  opts: RenderOptions & BrowserOptions = {},
): Promise<Buffer[]> {
  figures.forEach((f, i) => assertFigure(f, `renderFigures: figures[${i}]`));
  const r = await FigureRenderer.open(opts);
  try {
    const out: Buffer[] = [];
    for (const f of figures) out.push(await r.render(f, opts));
    return out;
  } finally {
    await r.close();
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
  opts: RenderOptions & BrowserOptions = {},
): Promise<void> {
  const format = formatOf(output);
  let fig: unknown;
  try {
    fig = JSON.parse(readFileSync(input, "utf8"));
  } catch (e) {
    throw new Error(`${input}: cannot read a figure: ${(e as Error).message}`);
  }
  assertFigure(fig, input);
  const [img] = await renderFigures([fig], { ...opts, format });
  writeFileSync(output, img);
}
