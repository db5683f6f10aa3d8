/**
 * Notebooks as people run them: Debian's Jupyter Notebook (classic, 6.x) on localhost with a
 * token and the kernelspec in a temporary prefix, the notebook opened in headless Chromium
 * (playwright-core, /usr/bin/chromium), Cell > Run All, and then, once the kernel is idle:
 * every cell's outputs are its own, no error output, and every plotly figure drew.
 *
 * "Its own": each code cell gets a first line printing its marker, which must appear in that cell
 * only; the number of outputs (other than streams) and of plotly figures of each cell must be
 * what the headless runner, which sends one cell at a time, gives for it.
 */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "fs";
import { join } from "path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../kernel/runner/client";
import { which } from "../kernel/kernelspec";
import { CHROMIUM, FIXTURES, IN_CI, ROOT, jupyterEnv, runCli, tempDir } from "./kernel-support";
import { sharedNotebookRun } from "./support/reproduce";

const NOTEBOOK = which("jupyter-notebook");
const missing = [...(CHROMIUM ? [] : ["chromium"]), ...(NOTEBOOK ? [] : ["jupyter-notebook"])];
const skip = missing.length > 0 && !IN_CI;
const title = skip
  ? `Run All in Jupyter Notebook + Chromium (SKIPPED: ${missing.join(" and ")} not installed; ` +
    `apt-get install chromium jupyter-notebook; in CI this fails instead)`
  : "Run All in Jupyter Notebook + Chromium";

const MARKER = "execmem-lab-cell-marker-";

interface NbCell {
  cell_type: string;
  source: string | string[];
  outputs?: { output_type: string; data?: Record<string, unknown> }[];
}
interface Nb {
  cells: NbCell[];
}

const src = (c: NbCell) => (Array.isArray(c.source) ? c.source.join("") : c.source);

/** What each code cell must show: outputs other than streams, and plotly figures. */
interface Expected {
  outputs: number;
  figures: number;
}

function expectedFrom(executed: Nb): Expected[] {
  return executed.cells
    .filter((c) => c.cell_type === "code")
    .map((c) => {
      const outs = (c.outputs ?? []).filter((o) => o.output_type !== "stream");
      return {
        outputs: outs.length,
        figures: outs.filter((o) => o.data?.["application/vnd.plotly.v1+json"] !== undefined)
          .length,
      };
    });
}

/** The notebook with a first line in every code cell printing that cell's marker. */
function withMarkers(nb: Nb): Nb {
  let k = 0;
  return {
    ...nb,
    cells: nb.cells.map((c) =>
      c.cell_type === "code"
        ? { ...c, source: `console.log("${MARKER}${k++}");\n${src(c)}`, outputs: [] }
        : c,
    ),
  };
}

/** What one code cell shows in the page. */
interface Shown {
  text: string;
  outputs: number;
  streams: number;
  errors: number;
  stderr: number;
  figures: number;
  drawn: number;
  prompt: string;
}

describe.skipIf(skip)(title, () => {
  let server: ChildProcess | undefined;
  let serverLog = "";
  let browser: BrowserContext;
  let root: string;
  let base: string;
  const token = randomBytes(16).toString("hex");

  beforeAll(async () => {
    // The headless run of every notebook (the oracle of the tests below) starts now, while the
    // server and the browser start and the first test runs; a failure is seen where it is awaited.
    sharedNotebookRun().catch(() => {});
    if (!CHROMIUM || !NOTEBOOK) {
      throw new Error(
        `CI=true but ${missing.join(" and ")} missing: apt-get install ${missing.join(" ")}`,
      );
    }
    const version = spawnSync(NOTEBOOK, ["--version"], { encoding: "utf8" }).stdout.trim();
    if (!/^6\./.test(version)) {
      throw new Error(`this test drives classic Notebook 6.x; jupyter-notebook is ${version}`);
    }
    // The kernelspec in a temporary prefix, found through JUPYTER_PATH only.
    const prefix = tempDir("nb-prefix");
    const inst = await runCli(["kernel", "install", "--prefix", prefix]);
    expect(inst.status, inst.stderr).toBe(0);
    const home = tempDir("nb-home");
    const env = {
      ...jupyterEnv(prefix),
      HOME: home,
      JUPYTER_CONFIG_DIR: join(home, "config"),
      JUPYTER_DATA_DIR: join(home, "data"),
      JUPYTER_RUNTIME_DIR: join(home, "runtime"),
    };
    // The server's root looks like the checkout: notebooks/ (copies), and links to tests/ (the
    // scenario files the notebooks read) and node_modules/ (the library, and plotly.js that the
    // figures' HTML fallback loads from the server).
    root = tempDir("nb-root");
    mkdirSync(join(root, "notebooks"));
    symlinkSync(join(ROOT, "tests"), join(root, "tests"));
    symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(
      NOTEBOOK,
      [
        "--no-browser",
        "--ip=127.0.0.1",
        `--port=${port}`,
        "--port-retries=0",
        `--NotebookApp.token=${token}`,
        `--notebook-dir=${root}`,
        "--NotebookApp.open_browser=False",
        // CI containers run as root, which Notebook refuses without this.
        ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
      ],
      { env, stdio: ["ignore", "pipe", "pipe"], cwd: root },
    );
    for (const s of [server.stdout, server.stderr]) {
      s?.setEncoding("utf8");
      s?.on("data", (d: string) => (serverLog = (serverLog + d).slice(-50_000)));
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const r = await fetch(`${base}/api/status?token=${token}`);
        if (r.ok) break;
      } catch {
        // not listening yet
      }
      if (server.exitCode !== null || Date.now() > deadline) {
        throw new Error(`jupyter-notebook did not start:\n${serverLog}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await chromium.launchPersistentContext(tempDir("nb-chromium"), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 500));
      if (server.exitCode === null) server.kill("SIGKILL");
    }
  });

  /** Open `name` (in the server's notebooks/), Run All from the Cell menu, wait for idle. */
  async function runAll(
    name: string,
    timeoutMs: number,
  ): Promise<{ shown: Shown[]; pageErrors: string[] }> {
    const page: Page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
    try {
      await page.goto(`${base}/notebooks/notebooks/${name}?token=${token}`);
      // The kernel started and connected (classic Notebook's global Jupyter object).
      await page.waitForFunction(
        () => {
          const j = (
            window as unknown as {
              Jupyter?: { notebook?: { kernel?: { is_connected(): boolean } } };
            }
          ).Jupyter;
          return (
            !!j?.notebook?.kernel?.is_connected() &&
            document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null
          );
        },
        undefined,
        { timeout: 60_000 },
      );
      await page.click("#celllink");
      await page.click("#run_all_cells > a");
      // Every code cell has run (its prompt shows a number, not "*") and the kernel is idle.
      await page.waitForFunction(
        () => {
          const prompts = Array.from(document.querySelectorAll(".code_cell .input_prompt")).map(
            (p) => p.textContent ?? "",
          );
          return (
            prompts.length > 0 &&
            prompts.every((p) => /\[\d+\]/.test(p)) &&
            document.querySelector("#kernel_indicator_icon.kernel_idle_icon") !== null
          );
        },
        undefined,
        { timeout: timeoutMs, polling: 250 },
      );
      // Late outputs (a figure drawing, async displays) settle.
      await page.waitForTimeout(2000);
      const shown = await page.evaluate(() =>
        Array.from(document.querySelectorAll(".cell.code_cell")).map((cell) => {
          const areas = Array.from(cell.querySelectorAll(".output_area"));
          const figures = Array.from(cell.querySelectorAll(".execmem-lab-plotly"));
          return {
            text: (cell.querySelector(".output_wrapper") as HTMLElement | null)?.innerText ?? "",
            outputs: areas.filter((a) => !a.querySelector(".output_stream")).length,
            streams: areas.filter((a) => a.querySelector(".output_stream")).length,
            errors: cell.querySelectorAll(".output_error").length,
            stderr: cell.querySelectorAll(".output_stderr").length,
            figures: figures.length,
            drawn: figures.filter((f) => f.querySelector("svg.main-svg")).length,
            prompt: cell.querySelector(".input_prompt")?.textContent ?? "",
          };
        }),
      );
      return { shown, pageErrors };
    } catch (e) {
      throw new Error(
        `${(e as Error).message}\n--- jupyter-notebook log ---\n${serverLog.slice(-5000)}`,
      );
    } finally {
      await page.close();
    }
  }

  /** The report page of the headless run: offline, every figure drew, none wider than the page. */
  async function checkReportPage(html: string, expected: Expected[]) {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("request", (r) => {
      if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) {
        problems.push(`fetched ${r.url()}`);
      }
    });
    try {
      await page.goto(`file://${html}`, { waitUntil: "load" });
      const want = expected.reduce((t, e) => t + e.figures, 0);
      await page.waitForFunction(
        (n) =>
          document.querySelectorAll(".plotly-chart").length === n &&
          Array.from(document.querySelectorAll(".plotly-chart")).every((el) =>
            el.querySelector("svg.main-svg"),
          ),
        want,
        { timeout: 60_000 },
      );
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      if (overflow > 0) problems.push(`the page is ${overflow} px wider than the window`);
    } finally {
      await page.close();
    }
    expect(problems).toEqual([]);
  }

  /**
   * Run All of `notebook` in the browser, then take the headless run of it (the oracle: the test
   * run's one shared run of every notebook, tests/support/reproduce.ts, which runs meanwhile),
   * and compare.
   */
  async function check(notebook: string, timeoutMs: number, stated?: Expected[]) {
    const name = notebook.split("/").pop()!;
    const nb = JSON.parse(readFileSync(notebook, "utf8")) as Nb;
    writeFileSync(join(root, "notebooks", name), JSON.stringify(withMarkers(nb)));
    const { shown, pageErrors } = await runAll(name, timeoutMs);
    let expected: Expected[] = stated ?? [];
    if (!stated) {
      const run = await sharedNotebookRun();
      expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
      const out = run.out;
      expected = expectedFrom(JSON.parse(readFileSync(join(out, name), "utf8")) as Nb);
      await checkReportPage(join(out, name.replace(/\.ipynb$/, ".html")), expected);
    }
    expect(shown).toHaveLength(expected.length);
    const problems: string[] = [];
    shown.forEach((s, k) => {
      const markers = [...s.text.matchAll(new RegExp(`${MARKER}(\\d+)`, "g"))].map((m) =>
        Number(m[1]),
      );
      if (!markers.includes(k)) problems.push(`cell ${k}: its marker is missing`);
      const foreign = markers.filter((m) => m !== k);
      if (foreign.length)
        problems.push(`cell ${k}: shows the marker of cell(s) ${foreign.join(", ")}`);
      if (s.outputs !== expected[k].outputs) {
        problems.push(
          `cell ${k}: ${s.outputs} outputs, the headless run gives ${expected[k].outputs}`,
        );
      }
      if (s.figures !== expected[k].figures) {
        problems.push(
          `cell ${k}: ${s.figures} plotly figures, the headless run gives ${expected[k].figures}`,
        );
      }
      if (s.drawn !== s.figures)
        problems.push(`cell ${k}: ${s.figures - s.drawn} figure(s) did not draw`);
      if (s.errors || s.stderr) problems.push(`cell ${k}: error output: ${s.text.slice(0, 500)}`);
    });
    expect(problems).toEqual([]);
    expect(pageErrors).toEqual([]);
    return shown;
  }

  it("a notebook of markers: every output, synchronous or late, lands in its own cell", async () => {
    // Stated, not taken from the headless runner: it sends the next cell only once a cell is
    // idle, so it does not see cell 1's late display.
    const shown = await check(join(FIXTURES, "jupyter", "markers.ipynb"), 120_000, [
      { outputs: 2, figures: 0 }, // display, result
      { outputs: 2, figures: 0 }, // late display (timer), result
      { outputs: 2, figures: 1 }, // progress bar, figure as the result
      { outputs: 2, figures: 1 }, // display after await, figure display
      { outputs: 1, figures: 0 }, // result (and a log line)
    ]);
    expect(shown[1].text).toContain(`${MARKER}1 late display`);
    expect(shown[2].text).toContain(`${MARKER}2 progress`);
    expect(shown[3].text).toContain(`${MARKER}3 display after await`);
    expect(shown[4].text).toContain(`${MARKER}4 log`);
  }, 300_000);

  it("00-tour: Run All puts every output in its own cell and draws every figure", async () => {
    await check(join(ROOT, "notebooks", "00-tour.ipynb"), 240_000);
  }, 600_000);

  it("A11: Run All puts every output in its own cell and draws every figure", async () => {
    await check(join(ROOT, "notebooks", "A11-song-four-measures.ipynb"), 240_000);
  }, 600_000);
});
