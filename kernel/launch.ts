/**
 * The kernel launcher named in the kernelspec:
 *   node kernel/dist/launch.js kernel --config-file {connection_file}
 * Installs the display layer, then runs tslab's TypeScript kernel in this process.
 */
import { Worker } from "worker_threads";
import { startKernel } from "./display";
import { mark } from "./trace";

export function parseLaunchArgs(argv: string[]): { configFile: string } {
  const [command, flag, configFile] = argv;
  if (
    command !== "kernel" ||
    (flag !== "--config-file" && flag !== "--config-path") ||
    !configFile
  ) {
    throw new Error(
      `execmem-lab launcher: expected "kernel --config-file <connection file>", got ${JSON.stringify(argv.join(" "))}`,
    );
  }
  return { configFile };
}

/**
 * Exit when the process that started us is gone (Jupyter's JPY_PARENT_PID convention), so a
 * runner killed with Ctrl-C or SIGKILL leaves no kernel behind. The watch runs in a worker thread
 * so that it also works while a cell is stuck in a synchronous loop.
 */
export function watchParent(
  env: NodeJS.ProcessEnv = process.env,
  intervalMs = 1000,
): Worker | null {
  const pid = Number(env.JPY_PARENT_PID);
  if (!Number.isInteger(pid) || pid <= 1) return null;
  const code = `
    const { workerData } = require("worker_threads");
    setInterval(() => {
      try { process.kill(workerData.pid, 0); }
      catch { process.kill(process.pid, "SIGKILL"); }
    }, workerData.intervalMs);`;
  const w = new Worker(code, { eval: true, workerData: { pid, intervalMs } });
  w.unref();
  return w;
}

/** Run as the kernelspec's launcher: argv is `kernel --config-file <connection file>`. */
export function runLauncher(argv: string[] = process.argv.slice(2)): void {
  try {
    mark("modules");
    watchParent();
    const { configFile } = parseLaunchArgs(argv);
    startKernel(configFile).catch((e: unknown) => {
      console.error("execmem-lab kernel failed to start:", e);
      // Leave at once: with some of its sockets bound, zeromq's teardown at exit was seen to
      // keep the process alive (a thread spinning after the main thread ended), and whoever
      // started the kernel waits for its death to start another.
      process.kill(process.pid, "SIGKILL");
    });
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  }
}

if (require.main === module) runLauncher();
