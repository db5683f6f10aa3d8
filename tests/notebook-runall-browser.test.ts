/**
 * Notebooks as people run them: Debian's Jupyter Notebook (classic, 6.x) on localhost with a
 * token and the kernelspec in a temporary prefix, the notebook opened in headless Chromium
 * (playwright-core, /usr/bin/chromium), Cell > Run All, and then, once the kernel is idle and the
 * outputs the headless run gives have arrived (late ones too) and every figure drew: every cell's
 * outputs are its own, no error output, and every plotly figure drew.
 *
 * "Its own": each code cell gets a first line printing its marker, which must appear in that cell
 * only; the number of outputs (other than streams) and of plotly figures of each cell must be
 * what the headless runner, which sends one cell at a time, gives for it.
 */
import { execFile, spawn, type ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "fs";
import { join } from "path";
import { promisify } from "util";
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

/** An opened notebook's page, and the errors it logged. */
interface Opened {
  page: Page;
  pageErrors: string[];
}

const MARKERS_NB = join(FIXTURES, "jupyter", "markers.ipynb");
const TOUR_NB = join(ROOT, "notebooks", "00-tour.ipynb");
/**
 * Run All runs in one notebook at a time; their pages (and kernels) open at once beforehand.
 * The markers fixture holds every kind of output a notebook of the set sends (late displays,
 * progress bars updated from explorer worker threads while later cells wait, figures as results
 * and as displays); 00-tour is a notebook of the set as it is. The notebooks' own results are
 * checked by the shared headless run (tests/notebooks-run-jupyter.test.ts).
 */
const NOTEBOOKS = [MARKERS_NB, TOUR_NB];

describe.skipIf(skip)(title, () => {
  /** The page of each notebook, opened in beforeAll. */
  const opened = new Map<string, Promise<Opened>>();
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
    // The version check, the kernelspec's install, the server and the browser start at once.
    const version = promisify(execFile)(NOTEBOOK, ["--version"], { encoding: "utf8" }).then(
      ({ stdout }) => {
        if (!/^6\./.test(stdout.trim())) {
          throw new Error(`this test drives classic Notebook 6.x; jupyter-notebook is ${stdout}`);
        }
      },
    );
    // The kernelspec in a temporary prefix, found through JUPYTER_PATH only.
    const prefix = tempDir("nb-prefix");
    const installed = runCli(["kernel", "install", "--prefix", prefix]).then((inst) =>
      expect(inst.status, inst.stderr).toBe(0),
    );
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
    const exited = new Promise<void>((r) => server!.once("exit", () => r()));
    for (const s of [server.stdout, server.stderr]) {
      s?.setEncoding("utf8");
      s?.on("data", (d: string) => (serverLog = (serverLog + d).slice(-50_000)));
    }
    const listening = (async () => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          const r = await fetch(`${base}/api/status?token=${token}`);
          if (r.ok) return;
        } catch {
          // not listening yet
        }
        if (server.exitCode !== null || Date.now() > deadline) {
          throw new Error(`jupyter-notebook did not start:\n${serverLog}`);
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
      }
    })();
    const launched = chromium.launchPersistentContext(tempDir("nb-chromium"), {
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
    const started = await Promise.allSettled([version, installed, listening, launched]);
    if (started[3].status === "fulfilled") browser = started[3].value;
    for (const s of started) if (s.status === "rejected") throw s.reason;
    // Every notebook's page opens now: their kernels start while earlier notebooks run.
    for (const notebook of NOTEBOOKS) opened.set(notebook, open(notebook));
    for (const p of opened.values()) p.catch(() => {}); // awaited by its test
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once("exit", r));
      server.kill("SIGTERM");
      const killed = await Promise.race([exited, new Promise((r) => setTimeout(r, 500, "hung"))]);
      if (killed === "hung") server.kill("SIGKILL");
    }
  });

  /**
   * Open `notebook` (a copy with markers, in the server's notebooks/) in a page of its own and
   * wait until its kernel started and is idle.
   */
  async function open(notebook: string): Promise<Opened> {
    const name = notebook.split("/").pop()!;
    const nb = JSON.parse(readFileSync(notebook, "utf8")) as Nb;
    writeFileSync(join(root, "notebooks", name), JSON.stringify(withMarkers(nb)));
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
        { timeout: 120_000 },
      );
    } catch (e) {
      await page.close();
      throw new Error(
        `${(e as Error).message}\n--- jupyter-notebook log ---\n${serverLog.slice(-5000)}`,
      );
    }
    return { page, pageErrors };
  }

  /**
   * Run All (the Cell menu) in the opened notebook and wait until the kernel is idle with every
   * code cell run; then, once `expected` is known, until every cell shows as many outputs and
   * figures as expected and every figure drew (late outputs, a figure drawing), or `settleMs`
   * passed: what the page then shows.
   */
  async function runAll(
    { page, pageErrors }: Opened,
    timeoutMs: number,
    expected: () => Promise<Expected[]>,
    settleMs = 30_000,
  ): Promise<{ shown: Shown[]; pageErrors: string[] }> {
    try {
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
      const want = await expected();
      // Outputs that come after the kernel went idle (a timer's display) and figures drawing.
      // Not reaching the expected counts is not an error here: the comparison names the cell.
      await page
        .waitForFunction(
          (want) => {
            const cells = Array.from(document.querySelectorAll(".cell.code_cell"));
            return (
              cells.length === want.length &&
              cells.every((cell, k) => {
                const areas = Array.from(cell.querySelectorAll(".output_area"));
                const figures = Array.from(cell.querySelectorAll(".execmem-lab-plotly"));
                return (
                  areas.filter((a) => !a.querySelector(".output_stream")).length >=
                    want[k].outputs &&
                  figures.length >= want[k].figures &&
                  figures.every((f) => f.querySelector("svg.main-svg"))
                );
              })
            );
          },
          want,
          { timeout: settleMs, polling: 100 },
        )
        .catch(() => {});
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
    let oracle: string | undefined;
    const expectedOf = async (): Promise<Expected[]> => {
      if (stated) return stated;
      const run = await sharedNotebookRun();
      expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
      oracle = join(run.out, name);
      return expectedFrom(JSON.parse(readFileSync(oracle, "utf8")) as Nb);
    };
    const { shown, pageErrors } = await runAll(await opened.get(notebook)!, timeoutMs, expectedOf);
    const expected = await expectedOf();
    if (oracle) await checkReportPage(oracle.replace(/\.ipynb$/, ".html"), expected);
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
    const shown = await check(MARKERS_NB, 120_000, [
      { outputs: 2, figures: 0 }, // display, result
      { outputs: 2, figures: 0 }, // late display (timer), result
      { outputs: 2, figures: 1 }, // progress bar, figure as the result
      { outputs: 2, figures: 1 }, // display after await, figure display
      { outputs: 1, figures: 0 }, // result (and a log line)
      { outputs: 2, figures: 1 }, // progress bar updated from worker threads, figure as the result
    ]);
    expect(shown[1].text).toContain(`${MARKER}1 late display`);
    expect(shown[2].text).toContain(`${MARKER}2 progress`);
    expect(shown[3].text).toContain(`${MARKER}3 display after await`);
    expect(shown[4].text).toContain(`${MARKER}4 log`);
    expect(shown[5].text).toContain(`${MARKER}5 4 explorations`);
  }, 300_000);

  it("00-tour: Run All puts every output in its own cell and draws every figure", async () => {
    await check(TOUR_NB, 240_000);
  }, 600_000);
});
