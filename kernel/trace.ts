/**
 * Start-up phases of a kernel, for measuring: with EXECMEM_LAB_KERNEL_TRACE=FILE the kernel
 * appends a JSON line to FILE after its first executed cell (and at exit, for later marks): each
 * mark's time since the process started (ms) and the CPU time used by then (ms, all threads),
 * and the garbage collections (start, duration). Without it, {@link mark} does nothing.
 */
import { appendFileSync } from "fs";
import { PerformanceObserver, performance } from "perf_hooks";

let FILE = process.env.EXECMEM_LAB_KERNEL_TRACE;
const marks: [string, number, number][] = [];
const gcs: [number, number][] = [];
let observer: PerformanceObserver | undefined;

/** Process start, ms since the epoch (from the OS's uptime, which also counts before main). */
function startedAt(): number {
  return Date.now() - process.uptime() * 1000;
}

/** Record that the kernel reached `label`. */
export function mark(label: string): void {
  if (!FILE) return;
  if (!observer) {
    observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        gcs.push([e.startTime + performance.timeOrigin, e.duration]);
    });
    observer.observe({ entryTypes: ["gc"] });
    process.on("exit", flush);
  }
  const c = process.cpuUsage();
  marks.push([label, Date.now(), (c.user + c.system) / 1000]);
}

/** Write the marks recorded since the last call. */
export function flush(): void {
  if (!FILE || !marks.length) return;
  const t0 = startedAt();
  const out = {
    pid: process.pid,
    start: t0,
    marks: marks.map(([l, t, cpu]) => [l, Math.round(t - t0), Math.round(cpu)]),
    gc: gcs.map(([t, d]) => [Math.round(t - t0), Math.round(d * 10) / 10]),
  };
  marks.length = 0;
  gcs.length = 0;
  try {
    appendFileSync(FILE, JSON.stringify(out) + "\n");
  } catch (e) {
    // Tracing is a measurement aid: say once why it stopped, and go on without it.
    console.error(
      `execmem-lab kernel: EXECMEM_LAB_KERNEL_TRACE: cannot write ${FILE} (${(e as Error).message}); tracing off`,
    );
    FILE = undefined;
  }
}
