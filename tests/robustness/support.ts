/** Helpers of the bad-input tests: the CLI as a child process, killed if it hangs. */
import { spawn, type ChildProcess } from "child_process";
import { CLI, ROOT } from "../kernel-support";

export { CLI, ROOT, tempDir } from "../kernel-support";

export interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed after `timeoutMs`: the command hung. */
  hung: boolean;
  ms: number;
}

/** Run `node kernel/dist/cli.js ARGS`; kill it after `timeoutMs` (a hang is a result, not a stuck test). */
export function cli(
  args: string[],
  opts: {
    timeoutMs?: number;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    onStart?: (c: ChildProcess) => void;
  } = {},
): Promise<Outcome> {
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
    const timer = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 20_000);
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

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

export const fixture = (name: string) => `tests/fixtures/robustness/${name}`;
