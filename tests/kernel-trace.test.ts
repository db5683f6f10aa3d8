/**
 * kernel/trace.ts (EXECMEM_LAB_KERNEL_TRACE=FILE): a JSON line of start-up marks per flush, and
 * a file it cannot write is one line on stderr, not an exception.
 */
import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { describe, expect, it } from "vitest";

const TRACE = join(__dirname, "..", "kernel", "dist", "trace.js");

function traced(file: string) {
  const script = `const t = require(${JSON.stringify(TRACE)}); t.mark("main"); t.mark("reply"); t.flush(); t.mark("late"); t.flush();`;
  return spawnSync(process.execPath, ["-e", script], {
    env: { ...process.env, EXECMEM_LAB_KERNEL_TRACE: file },
    encoding: "utf8",
  });
}

describe("EXECMEM_LAB_KERNEL_TRACE", () => {
  it("appends one JSON line of marks (ms since process start, CPU ms) per flush", () => {
    const file = join(mkdtempSync(join(tmpdir(), "execmem-lab-trace-")), "trace.jsonl");
    const r = traced(file);
    expect(r.status).toBe(0);
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { marks: [string, number, number][] });
    expect(lines.map((l) => l.marks.map((m) => m[0]))).toEqual([["main", "reply"], ["late"]]);
    for (const [, t, cpu] of lines[0].marks) {
      expect(t).toBeGreaterThanOrEqual(0);
      expect(cpu).toBeGreaterThan(0);
    }
  });

  it("a file it cannot write: one line naming it, tracing off, no stack trace", () => {
    const file = join(tmpdir(), "no-such-folder-execmem-lab", "trace.jsonl");
    const r = traced(file);
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringContaining(`EXECMEM_LAB_KERNEL_TRACE: cannot write ${file}`),
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
