/**
 * The headless runner: executes notebooks (up to `jobs` at once, each kernel process reset and
 * reused for the next notebook of its folder) and
 * writes the executed .ipynb, a standalone HTML page per notebook and an index into `outDir`.
 * Files are written to a temporary name and renamed, so a page is either complete or absent;
 * a failed notebook's page and index row say FAILED.
 */
import { availableParallelism } from "os";
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  copyFileSync,
  existsSync,
  openSync,
  readdirSync,
  renameSync,
  readFileSync,
  rmSync,
  statSync,
} from "fs";
import { basename, dirname, join, relative, resolve, sep } from "path";
import type { NotebookSummary } from "execmem-lab/dist/display";
import { KERNEL_DIST, makeDirs, writeFileAtomic } from "../files";
import {
  PLOTLY_FILE,
  plotlyJsPath,
  renderIndexPage,
  renderNotebookPage,
  type IndexEntry,
} from "../report/html";
import { UsageError } from "../errors";
import { KernelClient } from "./client";
import { runNotebook, type CellFailure, type NotebookRun } from "./execute";
import { readNotebook, serializeNotebook, tagsOf, type Notebook } from "./notebook";
import { PARAMETERS_TAG, injectParameters, type Params } from "./params";
import { silentProgress, type ProgressSink } from "./progress";

export interface RunOptions {
  /** Notebook files; default: every .ipynb under `notebooksDir`. */
  notebooks?: string[];
  /** Default "notebooks" (relative to `cwd`). */
  notebooksDir?: string;
  /** Default "out" (relative to `cwd`). */
  outDir?: string;
  params?: Params;
  /** Per-cell timeout in ms; default 600 000. */
  timeoutMs?: number;
  /** Notebooks executed at once; default the core count. */
  jobs?: number;
  progress?: ProgressSink;
  /** Heap limit of each kernel process, MB (default: node's). */
  kernelHeapMb?: number;
  /**
   * Run a notebook in a kernel that ran an earlier one of the same folder, once the kernel has
   * reset itself (kernel/reset.ts; a kernel that cannot is replaced); default true. False: a new
   * kernel per notebook, started ahead.
   */
  reuseKernels?: boolean;
  /** Default process.cwd(). */
  cwd?: string;
}

export interface NotebookResult {
  /** The notebook path relative to cwd, e.g. "notebooks/00-tour.ipynb". */
  notebook: string;
  status: "passed" | "failed";
  failures: CellFailure[];
  summaries: NotebookSummary[];
  durationMs: number;
  /** Kernel start-up time, ms (-1 if it never started). */
  startMs: number;
  /** Written files, absolute. */
  html: string;
  ipynb: string;
}

export interface RunResult {
  results: NotebookResult[];
  ok: boolean;
  outDir: string;
  index: string;
}

/** Bad input to the runner (missing notebook, bad parameter): nothing was executed. */
export class RunnerInputError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "RunnerInputError";
  }
}

export function discoverNotebooks(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new RunnerInputError(`notebook folder not found: ${dir}`);
  }
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(".ipynb")) found.push(p);
    }
  };
  walk(dir);
  return found;
}

export { writeFileAtomic };

interface Manifest {
  notebooks: IndexEntry[];
}

const sleepBuffer = new Int32Array(new SharedArrayBuffer(4));

/**
 * Run `fn` holding `lock` (a file created exclusively), so runs writing into the same folder
 * at once take turns. A lock older than `staleMs` is left from a killed run and is taken over.
 */
export function withLockFile<T>(lock: string, fn: () => T, waitMs = 10_000, staleMs = 30_000): T {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      closeSync(openSync(lock, "wx"));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > staleMs) rmSync(lock, { force: true });
      else if (Date.now() > deadline)
        throw new Error(`${lock} has been held by another run for ${Math.round(age / 1000)} s`);
      else Atomics.wait(sleepBuffer, 0, 0, 10);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Can `dir` be created (if missing) and written? Returns the reason if not. */
function unwritableDir(dir: string): string | undefined {
  try {
    makeDirs(dir);
    if (!statSync(dir).isDirectory()) return "not a directory";
    accessSync(dir, fsConstants.W_OK);
    const probe = join(dir, `.write-test-${process.pid}`);
    closeSync(openSync(probe, "w"));
    rmSync(probe, { force: true });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function readManifest(path: string): Manifest {
  try {
    const m = JSON.parse(readFileSync(path, "utf8")) as Manifest;
    if (Array.isArray(m.notebooks)) return m;
  } catch {
    // none yet, or unreadable: start afresh
  }
  return { notebooks: [] };
}

/** Output base name (no extension) of a notebook: its path below the notebooks folder. */
function outName(nbAbs: string, nbDirAbs: string): string {
  const rel = relative(nbDirAbs, nbAbs);
  const inside = rel && !rel.startsWith("..") && !rel.startsWith(sep);
  return (inside ? rel : basename(nbAbs)).replace(/\.ipynb$/, "");
}

/** Where the runner keeps each notebook's last time (ms), by absolute path. */
const timesFile = join(KERNEL_DIST, "notebook-times.json");

function readTimes(file: string): { [notebook: string]: number } {
  try {
    const t = JSON.parse(readFileSync(file, "utf8")) as unknown;
    if (t && typeof t === "object" && !Array.isArray(t)) return t as { [notebook: string]: number };
  } catch {
    // no earlier run
  }
  return {};
}

async function pool<T>(
  items: T[],
  jobs: number,
  work: (t: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
}

/** Execute notebooks and write the report. Throws RunnerInputError before running anything. */
export async function runNotebooks(opts: RunOptions = {}): Promise<RunResult> {
  const cwd = opts.cwd ?? process.cwd();
  const nbDir = resolve(cwd, opts.notebooksDir ?? "notebooks");
  const outDir = resolve(cwd, opts.outDir ?? "out");
  const progress = opts.progress ?? silentProgress;
  const params = opts.params ?? {};
  const paths = opts.notebooks?.length
    ? opts.notebooks.map((p) => resolve(cwd, p))
    : discoverNotebooks(nbDir);
  if (paths.length === 0)
    throw new RunnerInputError(`no notebooks found under ${relative(cwd, nbDir) || "."}`);

  // Read everything first: bad input fails before any kernel starts.
  const problems: string[] = [];
  const loaded: { abs: string; shown: string; nb: Notebook; name: string }[] = [];
  for (const abs of paths) {
    const shown = relative(cwd, abs) || abs;
    try {
      loaded.push({ abs, shown, nb: readNotebook(abs, shown), name: outName(abs, nbDir) });
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  const names = new Map<string, string>();
  for (const l of loaded) {
    const other = names.get(l.name);
    if (other) problems.push(`${l.shown} and ${other} would both be written to ${l.name}.html`);
    names.set(l.name, l.shown);
  }
  if (Object.keys(params).length > 0) {
    const declared = new Set<string>();
    for (const l of loaded) {
      const { unknown } = injectParameters(l.nb, params);
      for (const p of Object.keys(params)) if (!unknown.includes(p)) declared.add(p);
    }
    for (const p of Object.keys(params)) {
      if (!declared.has(p)) {
        const withCell = loaded.filter((l) =>
          l.nb.cells.some((c) => tagsOf(c).includes(PARAMETERS_TAG)),
        );
        problems.push(
          `parameter ${p} is not declared (let/const ${p} = ...) in the cell tagged "${PARAMETERS_TAG}" of ` +
            (withCell.length
              ? withCell.map((l) => l.shown).join(", ")
              : `any of the selected notebooks (none has one)`),
        );
      }
    }
  }
  // The report must not overwrite what it reads.
  for (const l of loaded) {
    if (resolve(outDir, `${l.name}.ipynb`) === resolve(l.abs))
      problems.push(
        `${l.shown}: the executed notebook would overwrite it (the output folder is the notebook's own); choose another -o/--out`,
      );
  }
  if (problems.length > 0) throw new RunnerInputError(problems.join("\n"));
  const why = unwritableDir(outDir);
  if (why) throw new RunnerInputError(`cannot create output directory ${outDir}: ${why}`);

  // One plotly.js for every page of the report (each page used to inline its own 4.8 MB),
  // copied under a temporary name and renamed: a run beside this one never reads half of it.
  const plotlyTmp = join(outDir, `${PLOTLY_FILE}.tmp-${process.pid}`);
  copyFileSync(plotlyJsPath(), plotlyTmp);
  renameSync(plotlyTmp, join(outDir, PLOTLY_FILE));
  const manifestPath = join(outDir, "results.json");
  const indexPath = join(outDir, "index.html");
  const lockPath = join(outDir, ".results.lock");
  // This run's rows. The index is merged under a lock: another run writing into the same
  // folder keeps its rows (the results on disk are re-read each time).
  const mine = new Map<string, IndexEntry>();
  const upsert = (entry: IndexEntry) => mine.set(entry.notebook, entry);
  const writeIndex = () =>
    withLockFile(lockPath, () => {
      const manifest = readManifest(manifestPath);
      // Drop rows of notebooks that no longer exist; this run's rows replace the old ones.
      manifest.notebooks = manifest.notebooks.filter(
        (e) => !mine.has(e.notebook) && existsSync(resolve(cwd, e.notebook)),
      );
      manifest.notebooks.push(...mine.values());
      manifest.notebooks.sort((a, b) => a.notebook.localeCompare(b.notebook));
      writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 1) + "\n");
      writeFileAtomic(indexPath, renderIndexPage(manifest.notebooks, new Date()));
    });
  for (const l of loaded) {
    rmSync(join(outDir, `${l.name}.html`), { force: true });
    rmSync(join(outDir, `${l.name}.ipynb`), { force: true });
    upsert({ notebook: l.shown, status: "running", href: "", failures: [], summaries: [] });
  }
  writeIndex();

  const results: NotebookResult[] = [];
  const jobs = opts.jobs ?? availableParallelism();
  // A kernel's start costs more CPU than many notebooks (TypeScript's start-up), so a kernel that
  // ran a notebook resets itself and runs the next one of its folder; one that cannot reset
  // (kernel/reset.ts says why) is shut down and a new one started. Without reuse, kernels are
  // started ahead: while notebooks i..i+jobs-1 run, the kernels of the next `jobs` notebooks
  // start. A kernel that fails to start fails its own notebook.
  // The longest notebooks (by their time in earlier runs) start first, so that the run does not
  // end with one long notebook on one core.
  const times = readTimes(timesFile);
  const queue = [...loaded].sort((a, b) => (times[b.abs] ?? 0) - (times[a.abs] ?? 0));
  const reuse = opts.reuseKernels ?? true;
  const start = (cwd: string) => {
    const kernel = KernelClient.start({ cwd, heapMb: opts.kernelHeapMb });
    kernel.catch(() => {}); // reported by its notebook
    return kernel;
  };
  const kernels: (Promise<KernelClient> | undefined)[] = [];
  const startAhead = (i: number) => {
    for (let k = i; k < Math.min(queue.length, i + jobs + 1); k++) {
      kernels[k] ??= start(dirname(queue[k].abs));
    }
  };
  // Kernels reset after a notebook, by folder (a kernel's working directory is its notebook's).
  // A kernel that cannot reset is shut down and, if notebooks of its folder are still to run, a
  // new one started at once, while this notebook's report is written.
  const idle: { cwd: string; kernel: Promise<KernelClient | null> }[] = [];
  const waiting = new Map<string, number>();
  for (const l of queue) waiting.set(dirname(l.abs), (waiting.get(dirname(l.abs)) ?? 0) + 1);
  const kernelFor = (cwd: string): Promise<KernelClient> => {
    waiting.set(cwd, (waiting.get(cwd) ?? 1) - 1);
    const at = idle.findIndex((k) => k.cwd === cwd);
    if (at < 0) return start(cwd);
    const [{ kernel }] = idle.splice(at, 1);
    return kernel.then((k) => k ?? start(cwd));
  };
  const release = (cwd: string, kernel: KernelClient) => {
    const reset = kernel.reset().then((why) => {
      if (why === null) return kernel;
      void kernel.shutdown(500);
      return (waiting.get(cwd) ?? 0) > 0 ? start(cwd) : null;
    });
    reset.catch(() => {}); // a replacement that fails to start is reported by its notebook
    idle.push({ cwd, kernel: reset });
  };
  await pool(queue, jobs, async (l, i) => {
    if (!reuse) startAhead(i);
    else kernels[i] = kernelFor(dirname(l.abs));
    progress.start(l.shown);
    const html = join(outDir, `${l.name}.html`);
    const ipynb = join(outDir, `${l.name}.ipynb`);
    let run: NotebookRun;
    const t0 = Date.now();
    try {
      run = await runNotebook(l.shown, l.nb, {
        timeoutMs: opts.timeoutMs ?? 600_000,
        params,
        kernelCwd: dirname(l.abs),
        kernelHeapMb: opts.kernelHeapMb,
        onCell: (c, n) => progress.cell(l.shown, c, n),
        kernel: kernels[i],
        keepKernel: reuse,
      });
      if (run.kernel) release(dirname(l.abs), run.kernel);
    } catch (e) {
      // The kernel never started (or the runner itself failed): report it as this notebook's failure.
      const message = e instanceof Error ? e.message : String(e);
      run = {
        path: l.shown,
        executed: l.nb,
        failures: [{ kind: "kernel", cell: -1, label: "kernel start", message }],
        cells: l.nb.cells.map(() => ({ state: "not-run" as const })),
        summaries: [],
        durationMs: Date.now() - t0,
        startMs: -1,
      };
    }
    const result: NotebookResult = {
      notebook: l.shown,
      status: run.failures.length ? "failed" : "passed",
      failures: run.failures,
      summaries: run.summaries,
      durationMs: run.durationMs,
      startMs: run.startMs,
      html,
      ipynb,
    };
    writeFileAtomic(ipynb, serializeNotebook(run.executed));
    writeFileAtomic(
      html,
      renderNotebookPage({
        title: l.shown,
        notebook: run.executed,
        cells: run.cells,
        failures: run.failures,
        durationMs: run.durationMs,
        indexHref: relative(dirname(html), indexPath).split(sep).join("/"),
        ipynbHref: basename(ipynb),
        plotlyHref: relative(dirname(html), join(outDir, PLOTLY_FILE)).split(sep).join("/"),
      }),
    );
    upsert({
      notebook: l.shown,
      status: result.status,
      href: relative(outDir, html).split(sep).join("/"),
      durationMs: result.durationMs,
      kernelMs: result.startMs,
      failures: result.failures.map((f) => ({ label: f.label, message: f.message })),
      summaries: result.summaries,
    });
    writeIndex();
    results.push(result);
    progress.end(result);
  });
  await Promise.all(idle.map(async (k) => (await k.kernel.catch(() => null))?.shutdown(500)));
  progress.close();
  for (const r of results)
    if (r.status === "passed") times[resolve(cwd, r.notebook)] = r.durationMs;
  try {
    writeFileAtomic(timesFile, JSON.stringify(times, null, 1) + "\n");
  } catch {
    // only the order of the next run depends on it
  }
  results.sort((a, b) => a.notebook.localeCompare(b.notebook));
  return { results, ok: results.every((r) => r.status === "passed"), outDir, index: indexPath };
}

/** One line per failure: notebook, cell and error. */
export function describeFailures(results: NotebookResult[]): string[] {
  return results.flatMap((r) => r.failures.map((f) => `${r.notebook}, ${f.label}: ${f.message}`));
}
