/** Helpers shared by the kernel, runner and report tests. */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { dirname, join, resolve } from "path";
import { expect } from "vitest";
import { which } from "../kernel/kernelspec";

export const ROOT = resolve(__dirname, "..");
export const CLI = join(ROOT, "kernel", "dist", "cli.js");
export const FIXTURES = join(ROOT, "tests", "fixtures");

/** CPU seconds (user + system, all threads) process `pid` has used so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks (100 per second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Poll `until` every 50 ms until it holds or `timeoutMs` passed (then the caller's check fails). */
export async function waitUntil(until: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!until() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 50));
}

/** In CI (CI=true) a missing tool is an error, never a skip. */
export const IN_CI = !!process.env.CI && process.env.CI !== "false" && process.env.CI !== "0";

export const JUPYTER = which("jupyter");
export const CHROMIUM =
  ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p)) ?? null;

/** Skip only outside CI; the reason goes into the suite title so the skip is explicit. */
export function skipUnlessTool(
  tool: string | null,
  name: string,
  install: string,
): { skip: boolean; title: string } {
  const skip = tool === null && !IN_CI;
  return {
    skip,
    title: skip ? `${name} (SKIPPED: not installed; ${install}; in CI this fails instead)` : name,
  };
}

const created: string[] = [];
process.once("exit", () => {
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `execmem-lab-${prefix}-`));
  created.push(d);
  return d;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** What a CLI run printed and how it ended. */
export interface CliOutcome extends CliResult {
  signal: NodeJS.Signals | null;
  /** Killed after `timeoutMs`: the command hung. */
  hung: boolean;
  ms: number;
}

/** Run `node kernel/dist/cli.js ARGS`, killed after `timeoutMs` if one is given. */
export function spawnCli(
  args: string[],
  opts: {
    timeoutMs?: number;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    onStart?: (c: ChildProcess) => void;
  } = {},
): Promise<CliOutcome> {
  return new Promise((res, rej) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let hung = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            hung = true;
            child.kill("SIGKILL");
          }, opts.timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", rej);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      res({ status, signal, stdout, stderr, hung, ms: Date.now() - t0 });
    });
    opts.onStart?.(child);
  });
}

/** Run the execmem-lab CLI (kernel/dist/cli.js) and collect its output. */
export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const { status, stdout, stderr } = await spawnCli(args, opts);
  return { status, stdout, stderr };
}

/** The environment in which Jupyter finds the kernelspec installed under `prefix`, and only there. */
export function jupyterEnv(prefix: string): NodeJS.ProcessEnv {
  return { ...process.env, JUPYTER_PATH: join(prefix, "share", "jupyter") };
}

/**
 * `jupyter nbconvert --execute` of one notebook with the execmem-lab kernel installed under
 * `prefix`, into a fresh folder; the executed notebook path.
 */
export function nbconvertExecute(
  notebook: string,
  opts: { prefix: string; output: string; timeoutSec: number },
): { status: number | null; stderr: string; executed: string } {
  const outDir = tempDir("nbconvert");
  const r = spawnSync(
    "jupyter",
    [
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.kernel_name=execmem-lab",
      `--ExecutePreprocessor.timeout=${opts.timeoutSec}`,
      "--output-dir",
      outDir,
      "--output",
      opts.output,
      notebook,
    ],
    { env: jupyterEnv(opts.prefix), encoding: "utf8", cwd: dirname(notebook) },
  );
  return {
    status: r.status,
    stderr: r.stderr,
    executed: join(outDir, `${opts.output}.ipynb`),
  };
}

/**
 * {@link nbconvertExecute} that must succeed: exit status 0 and nothing matching `failure` on
 * stderr; the executed notebook.
 */
export function executeNotebook<T>(
  notebook: string,
  opts: { prefix: string; output: string; timeoutSec: number },
  failure: RegExp,
): T {
  const conv = nbconvertExecute(notebook, opts);
  expect(conv.stderr).not.toMatch(failure);
  expect(conv.status).toBe(0);
  return JSON.parse(readFileSync(conv.executed, "utf8")) as T;
}
