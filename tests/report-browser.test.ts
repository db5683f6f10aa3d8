/**
 * The generated report in headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core): the plotly chart rendered offline, with its traces, and no console errors.
 */
import { existsSync, readFileSync, statSync } from "fs";
import { createServer } from "http";
import type { AddressInfo } from "net";
import { join } from "path";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plotlyBundle } from "../lib";
import { withPlotlyFallback } from "../kernel/plotly";
import { CHROMIUM_ARGS } from "../kernel/render";
import { CHROMIUM, IN_CI, ROOT, runCli, skipUnlessTool, tempDir } from "./kernel-support";

const browserTool = skipUnlessTool(
  CHROMIUM,
  "HTML report in headless Chromium",
  "apt-get install chromium",
);

describe.skipIf(browserTool.skip)(browserTool.title, () => {
  let browser: BrowserContext;
  let out: string;

  beforeAll(async () => {
    if (!CHROMIUM)
      throw new Error("CI=true but no Chromium at /usr/bin/chromium: apt-get install chromium");
    out = tempDir("report");
    const r = await runCli([
      "run",
      "tests/fixtures/report/chart.ipynb",
      "tests/fixtures/runner/throws.ipynb",
      "--out",
      out,
      "--no-progress",
    ]);
    expect(r.status).toBe(1); // throws.ipynb fails on purpose
    // A fresh profile directory (--user-data-dir) for every run.
    browser = await chromium.launchPersistentContext(tempDir("chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function open(file: string) {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => {
      if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url());
    });
    await page.goto(`file://${join(out, file)}`, { waitUntil: "load" });
    return { page, errors, requests };
  }

  it("renders the plotly chart offline with all its traces and no console errors", async () => {
    const html = readFileSync(join(out, "chart.html"), "utf8");
    // One plotly.js beside the pages, from the npm package, read from disk (never a CDN).
    expect(html.match(/<script[^>]+src=[^>]*>/g)).toEqual(['<script src="plotly.min.js">']);
    expect(statSync(join(out, "plotly.min.js")).size).toBeGreaterThan(1_000_000);
    expect(html.length).toBeLessThan(200_000);
    const { page, errors, requests } = await open("chart.html");
    await page.waitForSelector(".plotly-chart .main-svg", { timeout: 30_000 });
    const traces = await page.evaluate(() => {
      const el = document.querySelector(".plotly-chart") as HTMLElement & { data?: unknown[] };
      return {
        data: el.data?.length ?? 0,
        scatter: el.querySelectorAll(".scatterlayer .trace").length,
        bar: el.querySelectorAll(".barlayer .trace").length,
        svgs: el.querySelectorAll("svg.main-svg").length,
        title: el.querySelector(".gtitle")?.textContent ?? "",
      };
    });
    expect(traces.data).toBe(3);
    expect(traces.scatter).toBe(2);
    expect(traces.bar).toBe(1);
    expect(traces.svgs).toBeGreaterThan(0);
    expect(traces.title).toBe("three traces");
    // Markdown rendered, code highlighted.
    expect(await page.locator(".markdown h1").textContent()).toBe("Chart fixture");
    expect(await page.locator(".markdown li").count()).toBe(2);
    expect(await page.locator("pre.source .hljs-keyword").count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it("every figure drew, fits the column (no fixed width overflowing) and keeps its axis labels whole", async () => {
    const { page, errors } = await open("chart.html");
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll(".plotly-chart")).every((el) =>
          el.querySelector("svg.main-svg"),
        ),
      undefined,
      { timeout: 30_000 },
    );
    const figures = await page.evaluate(() => {
      const column = document.body.getBoundingClientRect();
      return Array.from(document.querySelectorAll(".plotly-chart")).map((el) => {
        const box = el.getBoundingClientRect();
        const svg = el.querySelector("svg.main-svg")!.getBoundingClientRect();
        const labels = Array.from(
          el.querySelectorAll(".xtick text, .ytick text, .xtitle, .ytitle, .gtitle"),
        ).map((t) => t.getBoundingClientRect());
        const cut = labels.filter(
          (r) =>
            r.left < svg.left - 1 ||
            r.right > svg.right + 1 ||
            r.top < svg.top - 1 ||
            r.bottom > svg.bottom + 1,
        ).length;
        return {
          width: box.width,
          svgWidth: svg.width,
          column: column.width,
          labels: labels.length,
          cut,
        };
      });
    });
    expect(figures).toHaveLength(2);
    for (const f of figures) {
      expect(f.svgWidth).toBeLessThanOrEqual(f.column);
      expect(f.labels).toBeGreaterThan(3);
      expect(f.cut).toBe(0);
    }
    // The wide figure (2400 px asked) shrank to the column.
    expect(figures[1].svgWidth).toBeLessThan(1200);
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    ).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows a failed notebook's error in place and marks it failed in the index", async () => {
    const nb = await open("throws.html");
    expect(await nb.page.locator(".banner.failed").textContent()).toContain(
      "RangeError: boom from the fixture",
    );
    expect(await nb.page.locator("#cell-3 pre.error").textContent()).toContain(
      "RangeError: boom from the fixture",
    );
    expect(nb.errors).toEqual([]);
    await nb.page.close();
    const index = await open("index.html");
    const rows = await index.page.locator("table.index tr").allTextContents();
    expect(rows.find((r) => r.includes("chart.ipynb"))).toContain("passed");
    expect(rows.find((r) => r.includes("throws.ipynb"))).toContain("FAILED");
    expect(index.errors).toEqual([]);
    await index.page.close();
  });

  // Classic Notebook and nbconvert's templates load requirejs; JupyterLab does not.
  const REQUIREJS = "/usr/share/javascript/requirejs/require.min.js";
  it.each([
    { page: "without requirejs (JupyterLab)", amd: false },
    { page: "with requirejs (classic Notebook)", amd: true },
  ])(
    "the text/html fallback the kernel adds to a plotlyBundle draws every figure $page, loading plotly.js once from the Jupyter server",
    async ({ amd }) => {
      if (amd && !existsSync(REQUIREJS)) {
        // Debian's libjs-requirejs comes with jupyter-notebook (.ci/run installs it).
        if (IN_CI) throw new Error(`${REQUIREJS} missing: apt-get install jupyter-notebook`);
        console.warn(
          `SKIPPED the requirejs page: ${REQUIREJS} missing (apt-get install libjs-requirejs)`,
        );
        return;
      }
      // A stand-in for a Jupyter server: its page config names the base URL, /files/ serves the checkout.
      const figures = [
        withPlotlyFallback(
          plotlyBundle({ data: [{ y: [1, 3, 2] }, { y: [2, 2, 2], type: "bar" }] }),
        ),
        withPlotlyFallback(plotlyBundle({ data: [{ y: [5, 4] }] })),
      ];
      const head = amd ? `<script src="/base/static/require.js"></script>` : "";
      const page = `<!DOCTYPE html><html><head>${head}<script id="jupyter-config-data" type="application/json">{"baseUrl":"/base/"}</script></head><body>${figures.map((f) => String(f["text/html"])).join("")}</body></html>`;
      const served: string[] = [];
      const server = createServer((req, res) => {
        const url = decodeURIComponent(req.url ?? "");
        served.push(url);
        if (url === "/favicon.ico") {
          res.writeHead(204).end();
        } else if (url === "/base/lab/tree/x.ipynb") {
          res.writeHead(200, { "content-type": "text/html" }).end(page);
        } else if (url === "/base/static/require.js") {
          res.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(REQUIREJS));
        } else if (
          url.startsWith("/base/files/") &&
          !url.includes("..") &&
          existsSync(join(ROOT, url.slice(12)))
        ) {
          res
            .writeHead(200, { "content-type": "text/javascript" })
            .end(readFileSync(join(ROOT, url.slice(12))));
        } else {
          res.writeHead(404).end();
        }
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      try {
        const port = (server.address() as AddressInfo).port;
        const p = await browser.newPage();
        const errors: string[] = [];
        p.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
        p.on("pageerror", (e) => errors.push(String(e)));
        await p.goto(`http://127.0.0.1:${port}/base/lab/tree/x.ipynb`);
        // Every figure drew (each loaded plotly.js, or found it loaded, before drawing).
        await p.waitForFunction(
          (n) =>
            Array.from(document.querySelectorAll(".execmem-lab-plotly")).filter((e) =>
              e.querySelector("svg.main-svg"),
            ).length === n,
          figures.length,
          { timeout: 30_000 },
        );
        const traces = await p.evaluate(() =>
          Array.from(document.querySelectorAll(".execmem-lab-plotly")).map(
            (e) => (e as HTMLElement & { data?: unknown[] }).data?.length ?? 0,
          ),
        );
        expect(traces).toEqual([2, 1]);
        expect(
          served.filter((u) => u === "/base/files/node_modules/plotly.js-dist-min/plotly.min.js"),
        ).toHaveLength(1);
        expect(errors).toEqual([]);
        await p.close();
      } finally {
        server.close();
      }
    },
  );
});
