/**
 * Large explorations: `--progress` on stderr (a live line on a terminal), and a memory bound
 * that counts every store of the search, not only the JavaScript heap.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "child_process";
import { join } from "path";
import { runExplore } from "../../kernel/commands/explore";
import type { Io } from "../../kernel/commands/io";
import { ROOT, cli, lines } from "./support";

function capture(tty: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  let raw = "";
  const io: Io = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    tty,
    errRaw: (t) => (raw += t),
  };
  return { io, out, err, raw: () => raw };
}

describe("explore --progress", () => {
  it("prints states, frontier and time to stderr, only when asked", async () => {
    const args = ["explore", "tests/scenarios/x86-64-text_poke_bp.litmus", "--no-witnesses"];
    const plain = await cli(args);
    expect(plain.stderr).toBe("");
    const r = await cli([...args, "--progress"]);
    expect(r.status).toBe(0);
    const p = lines(r.stderr);
    expect(p.length).toBeGreaterThan(0);
    expect(p[p.length - 1]).toMatch(
      /^tests\/scenarios\/x86-64-text_poke_bp\.litmus: \d+ states, 0 to visit, \d+ final, [\d.]+ s \(done\)$/,
    );
    // Progress never goes to stdout (the table, or --json, stays clean).
    expect(r.stdout).not.toMatch(/to visit/);
  });

  it("on a terminal rewrites one line in place, then clears it", () => {
    const c = capture(true);
    runExplore(
      ["tests/scenarios/x86-64-text_poke_bp.litmus"],
      { progress: true, witnesses: false },
      c.io,
    );
    const clear = "\r\u001b[K";
    expect(c.raw().startsWith(clear)).toBe(true);
    expect(c.raw().endsWith(clear)).toBe(true);
    expect(c.raw()).toMatch(/states/);
    expect(c.err.at(-1)).toMatch(/\(done\)$/);
  });
});

describe("memory bound", () => {
  it("counts the state store's arrays: the search stays within maxHeapBytes", () => {
    // In a fresh node with gc() at hand, so the baseline is live memory, not garbage that a
    // collection during the search would free.
    const script = `
      const { bfs } = require(${JSON.stringify(join(ROOT, "lib", "dist", "explorer", "engine.js"))});
      const size = 1024; // an unbounded binary tree of 1 KB states
      const ts = {
        initial: () => new Uint8Array(size),
        successors: (s, emit) => {
          const n = new DataView(s.buffer, s.byteOffset).getFloat64(0);
          for (const k of [1, 2]) {
            const next = new Uint8Array(size);
            new DataView(next.buffer).setFloat64(0, n * 2 + k);
            emit(k, next);
          }
        },
      };
      gc();
      const mem = process.memoryUsage();
      const allowance = 48 * 2 ** 20;
      const g = bfs(ts, { maxHeapBytes: mem.heapUsed + mem.arrayBuffers + allowance, maxMs: 60000 });
      const held = g.store.bytes() + g.parent.buffer.byteLength + g.label.buffer.byteLength;
      console.log(JSON.stringify({ stoppedBy: g.stoppedBy, count: g.store.count, held, allowance }));
    `;
    const r = spawnSync(process.execPath, ["--expose-gc", "-e", script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as {
      stoppedBy: string;
      count: number;
      held: number;
      allowance: number;
    };
    expect(out.stoppedBy).toBe("memory");
    expect(out.count).toBeGreaterThan(4096);
    expect(out.held).toBeLessThanOrEqual(out.allowance);
  });
});
