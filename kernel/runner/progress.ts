/** Terminal progress of a run: notebook, cell i/n, elapsed. */
import type { NotebookResult } from "./run";

export interface ProgressSink {
  start(notebook: string): void;
  cell(notebook: string, i: number, n: number): void;
  end(result: NotebookResult): void;
  close(): void;
}

export const silentProgress: ProgressSink = {
  start() {},
  cell() {},
  end() {},
  close() {},
};

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function endLine(r: NotebookResult): string {
  if (r.status === "passed") return `ok     ${r.notebook}  ${secs(r.durationMs)}`;
  const f = r.failures[0];
  return `FAILED ${r.notebook}  ${secs(r.durationMs)}  ${f ? `${f.label}: ${f.message.split("\n")[0]}` : ""}`;
}

/**
 * On a TTY: one live line per running notebook, redrawn 4 times a second, finished notebooks
 * printed above. Otherwise: one line per event (for CI logs).
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  const t0 = Date.now();
  const active = new Map<string, { start: number; i: number; n: number }>();
  if (!stream.isTTY) {
    return {
      start(nb) {
        active.set(nb, { start: Date.now(), i: 0, n: 0 });
        stream.write(`start  ${nb}\n`);
      },
      cell(nb, i, n) {
        const a = active.get(nb);
        stream.write(`       ${nb}  cell ${i}/${n}  ${a ? secs(Date.now() - a.start) : ""}\n`);
      },
      end(r) {
        active.delete(r.notebook);
        stream.write(endLine(r) + "\n");
      },
      close() {
        stream.write(`done in ${secs(Date.now() - t0)}\n`);
      },
    };
  }
  let drawn = 0;
  const draw = () => {
    let s = drawn > 0 ? `\x1b[${drawn}A\x1b[J` : "";
    const now = Date.now();
    for (const [nb, a] of active) {
      s += `  ... ${nb}  cell ${a.i}/${a.n}  ${secs(now - a.start)}\n`;
    }
    drawn = active.size;
    stream.write(s);
  };
  const clear = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[J`);
    drawn = 0;
  };
  const timer = setInterval(draw, 250);
  timer.unref();
  return {
    start(nb) {
      active.set(nb, { start: Date.now(), i: 0, n: 0 });
      draw();
    },
    cell(nb, i, n) {
      const a = active.get(nb);
      if (a) Object.assign(a, { i, n });
      draw();
    },
    end(r) {
      active.delete(r.notebook);
      clear();
      stream.write(endLine(r) + "\n");
      draw();
    },
    close() {
      clearInterval(timer);
      clear();
      stream.write(`done in ${secs(Date.now() - t0)}\n`);
    },
  };
}
