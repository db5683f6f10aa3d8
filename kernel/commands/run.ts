/** `execmem-lab run [NOTEBOOK...] [-p NAME VALUE]...` — the headless runner. */
import { InvalidArgumentError, type Command } from "commander";
import { constants } from "os";
import { relative } from "path";
import { intOption, positiveNumber } from "./options";
import { parseParam, type Params } from "../runner/params";
import { terminalProgress, silentProgress } from "../runner/progress";
import { describeFailures, runNotebooks } from "../runner/run";

/** Node's timers hold at most 2^31-1 ms (a longer one fires at once). */
const MAX_TIMEOUT_S = Math.floor((2 ** 31 - 1) / 1000);

/** `-p NAME VALUE` arrives as "NAME=VALUE" (see rewriteParamPairs in cli.ts). */
function collectParam(v: string, prev: Params): Params {
  const eq = v.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`expected -p NAME VALUE, got ${JSON.stringify(v)}`);
  try {
    const [name, value] = parseParam(v.slice(0, eq), v.slice(eq + 1));
    return { ...prev, [name]: value };
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function register(program: Command): void {
  program
    .command("run")
    .description(
      "execute notebooks headless and write the report (executed .ipynb, HTML pages, index) to out/",
    )
    .argument("[notebook...]", "notebooks to run (default: every .ipynb under notebooks/)")
    .option(
      "-p, --parameter <NAME VALUE>",
      "set a parameter (papermill style; repeatable)",
      collectParam,
      {},
    )
    .option("-o, --out <dir>", "report folder", "out")
    .option("--notebooks <dir>", "notebook folder searched when no notebook is given", "notebooks")
    .option(
      "-t, --timeout <seconds>",
      "per-cell timeout",
      positiveNumber("--timeout", MAX_TIMEOUT_S),
      600,
    )
    .option(
      "-j, --jobs <n>",
      "notebooks run at once (default: core count)",
      intOption("--jobs", 1, 1024),
    )
    .option(
      "--kernel-memory <MB>",
      "heap limit of each kernel (default: node's); a cell that exceeds it fails with a message",
      intOption("--kernel-memory", 16, 1 << 20),
    )
    .option(
      "--no-kernel-reuse",
      "a new kernel for every notebook (default: a kernel resets itself and runs the next one)",
    )
    .option("--no-progress", "no progress display")
    .action(
      async (
        notebooks: string[],
        opts: {
          parameter: Params;
          out: string;
          notebooks: string;
          timeout: number;
          jobs?: number;
          kernelMemory?: number;
          kernelReuse: boolean;
          progress: boolean;
        },
      ) => {
        // Ctrl-C, kill, a closed terminal: exit now (128 + signal number); the kernels started so
        // far are killed and their connection files removed on exit (runner/client.ts).
        const onSignal = (sig: NodeJS.Signals) => {
          console.error(`\nexecmem-lab run: interrupted (${sig}); the report is incomplete`);
          process.exit(128 + constants.signals[sig]);
        };
        for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, onSignal);
        const r = await runNotebooks({
          notebooks,
          notebooksDir: opts.notebooks,
          outDir: opts.out,
          params: opts.parameter,
          timeoutMs: opts.timeout * 1000,
          jobs: opts.jobs,
          kernelHeapMb: opts.kernelMemory,
          reuseKernels: opts.kernelReuse,
          progress: opts.progress ? terminalProgress() : silentProgress,
        });
        const index = relative(process.cwd(), r.index) || r.index;
        const passed = r.results.filter((x) => x.status === "passed").length;
        console.log(`${passed} of ${r.results.length} notebooks passed; report: ${index}`);
        if (!r.ok) {
          for (const line of describeFailures(r.results)) console.error(`FAILED ${line}`);
          process.exitCode = 1;
        }
      },
    );
}
