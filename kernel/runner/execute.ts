/** Execute one notebook in a kernel process of its own (a new one, or one reset for it). */
import { dirname, resolve } from "path";
import { SUMMARY_MIME } from "execmem-lab/dist/display";
import type { NotebookSummary } from "execmem-lab/dist/display";
import { CHECK_TAG, compareOutputs, sanitizersFor } from "./checks";
import { CellTimeoutError, KernelClient, KernelDiedError, type Message } from "./client";
import {
  KERNELSPEC_METADATA,
  cellLabel,
  joinSource,
  tagsOf,
  type CodeCell,
  type DataOutput,
  type Notebook,
  type Output,
} from "./notebook";
import { INJECTED_TAG, injectParameters, type Params } from "./params";

export type FailureKind = "error" | "type-error" | "timeout" | "check" | "kernel";

export interface CellFailure {
  kind: FailureKind;
  /** 0-based index of the cell in the executed notebook. */
  cell: number;
  /** "cell 4 [id ...] ("first line")", numbered as in the source notebook. */
  label: string;
  message: string;
}

export interface CellStatus {
  state: "ok" | "failed" | "not-run" | "skipped-empty";
  durationMs?: number;
}

export interface NotebookRun {
  /** The notebook path as given to the runner. */
  path: string;
  executed: Notebook;
  failures: CellFailure[];
  /** Per cell of the executed notebook (text cells are "ok"). */
  cells: CellStatus[];
  summaries: NotebookSummary[];
  durationMs: number;
  /** Time waiting for the kernel (start + first contact, or what was left of it if it was started ahead), ms. */
  startMs: number;
  /** The kernel, still running, when `keepKernel` was asked for and it neither timed out nor died. */
  kernel?: KernelClient;
}

export interface RunNotebookOptions {
  timeoutMs: number;
  params?: Params;
  startTimeoutMs?: number;
  /** Working directory of the kernel; default the notebook's directory. */
  kernelCwd?: string;
  /** Heap limit of the kernel process, MB (default: node's). */
  kernelHeapMb?: number;
  /** Called as each code cell starts (i of n code cells, 1-based). */
  onCell?: (i: number, n: number) => void;
  /**
   * A kernel started ahead for this notebook, or one reset after another notebook (see
   * runNotebooks); default: start one now.
   */
  kernel?: Promise<KernelClient>;
  /**
   * Leave the kernel running (in NotebookRun.kernel) unless it timed out or died, for the caller
   * to reset or shut down; default: shut it down.
   */
  keepKernel?: boolean;
}

export function failureKind(ename: string): FailureKind {
  return ename === "TypeScriptError" ? "type-error" : "error";
}

function outputFromMessage(m: Message): Output | null {
  const c = m.content;
  switch (m.header.msg_type) {
    case "stream":
      return { output_type: "stream", name: c.name as "stdout" | "stderr", text: String(c.text) };
    case "display_data":
      return {
        output_type: "display_data",
        data: (c.data ?? {}) as Record<string, unknown>,
        metadata: (c.metadata ?? {}) as Record<string, unknown>,
        transient: c.transient as DataOutput["transient"],
      };
    case "execute_result":
      return {
        output_type: "execute_result",
        data: (c.data ?? {}) as Record<string, unknown>,
        metadata: (c.metadata ?? {}) as Record<string, unknown>,
        execution_count: (c.execution_count as number | undefined) ?? null,
      };
    case "error":
      return {
        output_type: "error",
        ename: String(c.ename),
        evalue: String(c.evalue),
        traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : [],
      };
    default:
      return null;
  }
}

/**
 * Execute every code cell of `nb` (read from `path`) in a fresh kernel whose working directory
 * is the notebook's. Stops at the first cell that throws, fails to compile or times out; output
 * check mismatches are collected and execution goes on.
 */
export async function runNotebook(
  path: string,
  source: Notebook,
  opts: RunNotebookOptions,
): Promise<NotebookRun> {
  const t0 = Date.now();
  const { notebook: withParams } = injectParameters(source, opts.params ?? {});
  // Deep copy: outputs are replaced, the source notebook stays as it was.
  const nb = JSON.parse(JSON.stringify(withParams)) as Notebook;
  nb.metadata = { ...nb.metadata, ...KERNELSPEC_METADATA };
  const expected = new Map<number, Output[]>();
  // Labels number cells as in the source notebook; the injected cell is named as such.
  const labels: string[] = [];
  let srcIndex = 0;
  nb.cells.forEach((cell, i) => {
    if (tagsOf(cell).includes(INJECTED_TAG) && cell.id === "injected-parameters") {
      labels.push("injected parameters cell");
    } else {
      labels.push(cellLabel(cell, srcIndex++));
    }
    if (cell.cell_type === "code") {
      if (tagsOf(cell).includes(CHECK_TAG)) expected.set(i, cell.outputs);
      cell.outputs = [];
      cell.execution_count = null;
    }
  });
  const cells: CellStatus[] = nb.cells.map((c) => ({
    state: c.cell_type === "code" ? "not-run" : "ok",
  }));
  const failures: CellFailure[] = [];
  const codeIdx = nb.cells.flatMap((c, i) => (c.cell_type === "code" ? [i] : []));
  const displays = new Map<string, DataOutput[]>();

  const client = await (opts.kernel ??
    KernelClient.start({
      cwd: opts.kernelCwd ?? dirname(resolve(path)),
      startTimeoutMs: opts.startTimeoutMs,
      heapMb: opts.kernelHeapMb,
    }));
  const startMs = Date.now() - t0;
  let kept: KernelClient | undefined;
  try {
    for (let k = 0; k < codeIdx.length; k++) {
      const i = codeIdx[k];
      const cell = nb.cells[i] as CodeCell;
      const code = joinSource(cell.source);
      if (code.trim() === "") {
        cells[i] = { state: "skipped-empty" };
        continue;
      }
      opts.onCell?.(k + 1, codeIdx.length);
      const tc = Date.now();
      const outs: Output[] = cell.outputs;
      let clearPending = false;
      const onMessage = (m: Message) => {
        if (m.header.msg_type === "update_display_data") {
          const id = (m.content.transient as { display_id?: string } | undefined)?.display_id;
          for (const o of (id && displays.get(id)) || []) {
            o.data = (m.content.data ?? {}) as Record<string, unknown>;
            o.metadata = (m.content.metadata ?? {}) as Record<string, unknown>;
          }
          return;
        }
        if (m.header.msg_type === "clear_output") {
          if (m.content.wait) clearPending = true;
          else outs.length = 0;
          return;
        }
        const o = outputFromMessage(m);
        if (!o) return;
        if (clearPending) {
          outs.length = 0;
          clearPending = false;
        }
        const last = outs[outs.length - 1];
        if (o.output_type === "stream" && last?.output_type === "stream" && last.name === o.name) {
          last.text = joinSource(last.text) + joinSource(o.text);
          return;
        }
        outs.push(o);
        if (o.output_type === "display_data" && o.transient?.display_id) {
          const list = displays.get(o.transient.display_id) ?? [];
          list.push(o);
          displays.set(o.transient.display_id, list);
        }
      };
      try {
        const { reply } = await client.execute(code, { timeoutMs: opts.timeoutMs, onMessage });
        cell.execution_count = (reply.execution_count as number | undefined) ?? null;
        const durationMs = Date.now() - tc;
        if (reply.status !== "ok") {
          cells[i] = { state: "failed", durationMs };
          const ename = String(reply.ename ?? "Error");
          const evalue = String(reply.evalue ?? `execution ${reply.status}`);
          failures.push({
            kind: failureKind(ename),
            cell: i,
            label: labels[i],
            message: `${ename}: ${evalue}`,
          });
          break;
        }
        cells[i] = { state: "ok", durationMs };
        const want = expected.get(i);
        if (want) {
          const sanitizers = sanitizersFor(nb, cell, path, `${path}, ${labels[i]}`);
          const diff = compareOutputs(want, outs, sanitizers);
          if (diff) {
            cells[i] = { state: "failed", durationMs };
            failures.push({
              kind: "check",
              cell: i,
              label: labels[i],
              message: `output check (${CHECK_TAG}) failed: ${diff}`,
            });
          }
        }
      } catch (e) {
        const durationMs = Date.now() - tc;
        cells[i] = { state: "failed", durationMs };
        if (e instanceof CellTimeoutError) {
          failures.push({ kind: "timeout", cell: i, label: labels[i], message: e.message });
          outs.push({
            output_type: "error",
            ename: "Timeout",
            evalue: e.message,
            traceback: [e.message],
          });
        } else if (e instanceof KernelDiedError) {
          const message = e.outOfMemory
            ? e.message.replace("out of memory", `out of memory in ${labels[i]}`)
            : e.message;
          failures.push({ kind: "kernel", cell: i, label: labels[i], message });
          outs.push({
            output_type: "error",
            ename: "KernelDied",
            evalue: message,
            traceback: [message],
          });
        } else {
          throw e;
        }
        break;
      }
    }
    if (opts.keepKernel && !failures.some((f) => f.kind === "timeout" || f.kind === "kernel"))
      kept = client;
  } finally {
    if (failures.some((f) => f.kind === "timeout" || f.kind === "kernel")) client.kill();
    else if (!kept) await client.shutdown(500);
  }
  const summaries: NotebookSummary[] = [];
  for (const cell of nb.cells) {
    if (cell.cell_type !== "code") continue;
    for (const o of cell.outputs) {
      if (o.output_type === "stream" || o.output_type === "error") continue;
      const s = o.data[SUMMARY_MIME] as NotebookSummary | undefined;
      if (s && typeof s === "object") summaries.push(s);
    }
  }
  const durationMs = Date.now() - t0;
  return { path, executed: nb, failures, cells, summaries, durationMs, startMs, kernel: kept };
}
