/**
 * Stopping long work when the kernel is interrupted or shut down.
 *
 * Inside the execmem-lab kernel an {@link InterruptHook} is installed under
 * `globalThis[Symbol.for("execmem-lab.interrupt")]` (by kernel/display.ts): its signal is aborted
 * when the kernel receives an interrupt (SIGINT, Jupyter's interrupt_mode "signal") or a
 * shutdown/restart, and a fresh one serves the work started afterwards. Work that runs outside
 * the JavaScript thread (exploreMany's worker threads) listens to it, since the kernel can only
 * stop the cell's own code.
 */

/** Where the kernel installs its {@link InterruptHook}. */
export const INTERRUPT_HOOK: unique symbol = Symbol.for("execmem-lab.interrupt") as never;

/** What kernel/display.ts installs at `globalThis[INTERRUPT_HOOK]`. */
export interface InterruptHook {
  /** Aborted at the next interrupt or shutdown of the kernel. */
  signal(): AbortSignal;
}

/** Work stopped by an interrupt (or an aborted `signal`) before it finished. */
export class InterruptedError extends Error {
  constructor(what: string) {
    super(`${what}: interrupted`);
    this.name = "InterruptedError";
  }
}

/**
 * The signal that stops long work started now: the kernel's interrupt signal inside the
 * execmem-lab kernel, `undefined` elsewhere (work then runs to the end unless given a signal).
 */
export function interruptSignal(): AbortSignal | undefined {
  const hook = (globalThis as { [INTERRUPT_HOOK]?: unknown })[INTERRUPT_HOOK];
  if (hook && typeof (hook as InterruptHook).signal === "function") {
    return (hook as InterruptHook).signal();
  }
  return undefined;
}
