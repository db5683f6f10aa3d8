/**
 * The kernel as front-ends talk to it: kernel_info, inspect (shift-tab / hover), interrupt and
 * shutdown while exploreMany's worker threads are busy.
 */
import { readFileSync } from "fs";
import { createRequire } from "module";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient, type Message } from "../kernel/runner/client";
import { ROOT, cpuSeconds, waitUntil } from "./kernel-support";

const LAUNCHER = join(ROOT, "kernel", "dist", "launch.js");

/** Threads of the process now: each worker thread of exploreMany is one. */
function threads(pid: number): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A cell that keeps two worker threads busy for tens of seconds, with a progress bar. */
const LONG_SWEEP = `
import { measureSubsets, measuresScenario, SITUATIONS, exploreMany, progress } from "execmem-lab";
const one = ["x86-64", "arm64", "riscv64"].flatMap((a) =>
  measureSubsets().flatMap((s) => SITUATIONS.map((sit) => measuresScenario(a, s, sit))));
const specs = Array.from({ length: 30 }, () => one).flat();
const bar = progress("sweep", specs.length);
await exploreMany(specs, { workers: 2, maxStates: 2_000_000, onProgress: (d) => bar.update(d) });
"finished"`;

describe("kernel protocol", () => {
  let client: KernelClient;

  beforeAll(async () => {
    client = await KernelClient.start({ cwd: ROOT, launcher: LAUNCHER });
  }, 120_000);

  afterAll(async () => {
    await client?.shutdown();
  });

  it("kernel_info names the TypeScript compiler that really compiles the cells", async () => {
    const reply = await client.shellRequest("kernel_info_request", {});
    const info = reply.content as {
      implementation: string;
      language_info: { name: string; version: string; file_extension: string };
    };
    // The compiler tslab loads for the cells (its own TypeScript build).
    const compiler = createRequire(require.resolve("tslab"))("@tslab/typescript-for-tslab") as {
      version: string;
    };
    expect(info.language_info.name).toBe("typescript");
    expect(info.language_info.version).toBe(compiler.version);
    expect(info.language_info.version).not.toBe("3.7.2");
    expect(info.language_info.file_extension).toBe(".ts");
    expect(info.implementation).toBe("execmem-lab");
  });

  it("inspect (shift-tab) shows a library function's doc comment", async () => {
    const code = 'import { explore } from "execmem-lab";\nexplore';
    const reply = await client.shellRequest("inspect_request", {
      code,
      cursor_pos: code.length,
      detail_level: 0,
    });
    const c = reply.content as { found: boolean; data: { "text/plain"?: string } };
    expect(c.found).toBe(true);
    expect(c.data["text/plain"]).toMatch(/function explore\(spec: ScenarioSpec/);
    expect(c.data["text/plain"]).toMatch(/Explore every interleaving/);
    expect(c.data["text/plain"]).toMatch(/\{ScenarioError\} for a scenario that does not compile/);
  });

  it("interrupt stops exploreMany's worker threads within 0.5 s and no output follows", async () => {
    const pid = client.pid!;
    const threadsIdle = threads(pid);
    const after: Message[] = [];
    let replied = false;
    let progressed = false;
    const off = client.onIopub((m) => {
      if (replied && m.header.msg_type !== "status") after.push(m);
    });
    const run = client.execute(LONG_SWEEP, {
      timeoutMs: 120_000,
      onMessage: (m) => (progressed ||= m.header.msg_type === "update_display_data"),
    });
    // Wait until the sweep's progress bar moved (a worker finished a scenario) and its two worker
    // threads run.
    await waitUntil(() => progressed && threads(pid) >= threadsIdle + 2);
    const threadsBusy = threads(pid);
    expect(threadsBusy, "threads while the sweep runs").toBeGreaterThanOrEqual(threadsIdle + 2);
    // Jupyter interrupts a kernel with interrupt_mode "signal" by sending SIGINT.
    process.kill(pid, "SIGINT");
    const interruptedAt = Date.now();
    const r = await run;
    replied = true;
    expect(Date.now() - interruptedAt).toBeLessThan(2000);
    expect(r.reply.status).toBe("error");
    await sleep(500);
    const idleFrom = cpuSeconds(pid);
    await sleep(1500);
    const idle = cpuSeconds(pid) - idleFrom;
    off();
    // The workers' threads are gone (a count, not a CPU share: it holds on a loaded machine),
    // and the kernel is idle.
    expect(threads(pid), "threads after the interrupt").toBeLessThanOrEqual(threadsBusy - 2);
    expect(idle, "CPU seconds in 1.5 s from 0.5 s after the interrupt").toBeLessThan(0.1);
    expect(after.map((m) => m.header.msg_type)).toEqual([]);
    // The kernel still works.
    const next = await client.execute("1 + 1", { timeoutMs: 30_000 });
    expect(next.reply.status).toBe("ok");
  }, 180_000);

  it("an interrupt that overtakes a cell's request stops that cell before it runs; one on an idle kernel stops no later cell", async () => {
    const pid = client.pid!;
    const cell = 'await new Promise((r) => setTimeout(r, 20000));\n"ran to the end"';
    // The request was made, then the interrupt; the signal arrives first, while the kernel is
    // idle (kernel/interrupts.ts). The kernel's signal handler runs in its idle event loop.
    const sent = new Date();
    await sleep(20);
    process.kill(pid, "SIGINT");
    await sleep(200);
    const t0 = Date.now();
    const stopped = await client.execute(cell, { timeoutMs: 60_000, sentAt: sent });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(stopped.reply.status).toBe("error");
    expect(stopped.reply.evalue).toBe(
      "Script execution was interrupted by SIGINT (before the cell ran)",
    );
    expect(JSON.stringify(stopped.messages)).not.toContain("ran to the end");
    // After a failed cell tslab aborts requests for 200 ms (stop on error).
    await sleep(300);
    // An interrupt on an idle kernel, then a cell made after it: the cell runs.
    process.kill(pid, "SIGINT");
    await sleep(200);
    const ran = await client.execute('"ran"', { timeoutMs: 30_000 });
    expect(ran.reply.status).toBe("ok");
    expect(JSON.stringify(ran.messages)).toContain("ran");
    await expect(
      client.execute("1", { timeoutMs: 1000, sentAt: new Date("not a date") }),
    ).rejects.toThrow("execute: sentAt must be a valid Date, not Invalid Date");
  }, 120_000);

  it("shutdown while workers run ends the kernel process at once", async () => {
    const k = await KernelClient.start({ cwd: ROOT, launcher: LAUNCHER });
    try {
      let progressed = false;
      const pid = k.pid!;
      const threadsIdle = threads(pid);
      void k
        .execute(LONG_SWEEP, {
          timeoutMs: 120_000,
          onMessage: (m) => (progressed ||= m.header.msg_type === "update_display_data"),
        })
        .catch(() => {});
      // The sweep's progress bar moved and its two worker threads run.
      await waitUntil(() => progressed && threads(pid) >= threadsIdle + 2);
      expect(threads(pid), "threads while the sweep runs").toBeGreaterThanOrEqual(threadsIdle + 2);
      const started = Date.now();
      // A grace period longer than the limit: a kernel that lingers is not killed early.
      await k.shutdown(5000);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      k.kill();
    }
  }, 180_000);
});
