/**
 * Output routing under Run All: front-ends send every execute_request at once and the kernel
 * queues them. Each output must carry the parent header of the request that produced it, also
 * when it arrives after its cell returned (a timer, a promise, a worker thread's message).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient, type Execution, type Message } from "../kernel/runner/client";
import { join } from "path";
import { ROOT, waitUntil } from "./kernel-support";

const LAUNCHER = join(ROOT, "kernel", "dist", "launch.js");

/** The marker each output of cell `i` carries, whatever its kind. */
const marker = (i: number) => `cell-${i}-marker`;

const OUTPUT_TYPES = ["stream", "display_data", "update_display_data", "execute_result", "error"];

/** Every text an output message carries (stream text, text/plain of bundles). */
function texts(m: Message): string[] {
  const c = m.content as { text?: string; data?: Record<string, unknown> };
  if (typeof c.text === "string") return [c.text];
  if (c.data && typeof c.data["text/plain"] === "string") return [c.data["text/plain"]];
  return [];
}

/** Five cells: synchronous and asynchronous outputs of every kind, cells 2 and 4 slow. */
const CELLS = [
  `import { display, md, progress } from "execmem-lab";
   import { Worker } from "worker_threads";
   display("${marker(0)} display"); console.log("${marker(0)} log"); md("${marker(0)} result")`,
  // A display after the cell returned (timer), and a result.
  `setTimeout(() => { display("${marker(1)} late display"); console.log("${marker(1)} late log"); }, 400);
   md("${marker(1)} result")`,
  // Busy for a while so that the following requests wait in the queue.
  `{ const until = Date.now() + 300; while (Date.now() < until) {} }
   const bar2 = progress("${marker(2)} progress", 3); bar2.tick();
   Promise.resolve().then(() => display("${marker(2)} microtask display"));
   md("${marker(2)} result")`,
  // A worker thread's messages, handled after the cell returned, update a progress bar.
  `const bar3 = progress("${marker(3)} worker progress", 2);
   const w3 = new Worker("const { parentPort } = require('worker_threads'); setTimeout(() => { parentPort.postMessage(1); parentPort.postMessage(2); }, 200);", { eval: true });
   w3.on("message", (n: number) => { bar3.update(n); display("${marker(3)} worker display " + n); if (n === 2) void w3.terminate(); });
   md("${marker(3)} result")`,
  `await new Promise((r) => setTimeout(r, 100));
   display("${marker(4)} display after await"); md("${marker(4)} result")`,
];

/** Every output that must arrive, as "cell:text" (its marker's cell, the text without progress). */
const EXPECTED = [
  `0:${marker(0)} display`,
  `0:${marker(0)} log`,
  `1:${marker(1)} late display`,
  `1:${marker(1)} late log`,
  `2:${marker(2)} progress`,
  `2:${marker(2)} microtask display`,
  `3:${marker(3)} worker progress`,
  `3:${marker(3)} worker display 2`,
  `4:${marker(4)} display after await`,
];

/** The outputs among `messages`, as "cell:text" by the marker each text carries. */
function seenOf(messages: Message[]): Set<string> {
  const seen = new Set<string>();
  for (const m of messages) {
    if (!OUTPUT_TYPES.includes(m.header.msg_type)) continue;
    for (const t of texts(m)) {
      const owner = /cell-(\d)-marker/.exec(t);
      if (owner) seen.add(`${owner[1]}:${t.replace(/\s*\[.*$/s, "").trim()}`);
    }
  }
  return seen;
}

describe("kernel output routing (back-to-back execute_requests)", () => {
  let client: KernelClient;
  let runs: Execution[];
  const late: Message[] = [];

  beforeAll(async () => {
    client = await KernelClient.start({ cwd: ROOT, launcher: LAUNCHER });
    const all: Message[] = [];
    const off = client.onIopub((m) => all.push(m));
    // All five at once, as Run All does; none awaited before the next is sent.
    runs = await Promise.all(CELLS.map((code) => client.execute(code, { timeoutMs: 60_000 })));
    // The late outputs (timer at 400 ms, worker at 200 ms) arrive: wait until every expected
    // output was seen, wherever it was routed (or 30 s passed: the test below names what is missing).
    await waitUntil(() => EXPECTED.every((w) => seenOf(all).has(w)), 30_000);
    off();
    late.push(...all);
  }, 120_000);

  afterAll(async () => {
    await client?.shutdown();
  });

  it("every cell succeeds and produces its own result", () => {
    for (const [i, r] of runs.entries()) {
      expect(r.reply.status, `cell ${i}`).toBe("ok");
      const results = r.messages.filter((m) => m.header.msg_type === "execute_result");
      expect(results.map(texts).flat(), `cell ${i} execute_result`).toEqual([
        `${marker(i)} result`,
      ]);
    }
  });

  it("every output message, however late, names the request that produced it", () => {
    const parentOf = new Map(runs.map((r, i) => [r.msgId, i]));
    const outputs = late.filter((m) => OUTPUT_TYPES.includes(m.header.msg_type));
    const misrouted: string[] = [];
    for (const m of outputs) {
      for (const t of texts(m)) {
        const owner = /cell-(\d)-marker/.exec(t);
        if (!owner) continue;
        const cell = parentOf.get(m.parent_header.msg_id ?? "");
        if (cell !== Number(owner[1])) {
          misrouted.push(`${JSON.stringify(t.trim())} went to cell ${cell}`);
        }
      }
    }
    expect(misrouted).toEqual([]);
    // Every kind of output showed up at all (a lost output is not a routed one).
    const seen = seenOf(outputs);
    for (const want of EXPECTED) expect([...seen], want).toContain(want);
  });
});
