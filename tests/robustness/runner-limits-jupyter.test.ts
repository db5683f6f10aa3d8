/**
 * `execmem-lab run` under limits while its kernels run: two runs into one folder, a cell that
 * fills the heap, SIGHUP. (Bad input, before any kernel starts: runner-input.test.ts.)
 */
import { existsSync, readFileSync, readdirSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { cli, fixture, lines, tempDir } from "./support";

const quick = fixture("quick.ipynb");

interface Manifest {
  notebooks: { notebook: string; status: string }[];
}

describe("run: limits while running", () => {
  it("two runs into the same -o keep each other's rows", { timeout: 90_000 }, async () => {
    const out = tempDir("shared-out");
    const [a, b] = await Promise.all([
      cli(["run", quick, "-o", out, "--no-progress"], { timeoutMs: 60_000 }),
      cli(["run", fixture("slow.ipynb"), "-o", out, "--no-progress"], { timeoutMs: 60_000 }),
    ]);
    expect([a.status, b.status]).toEqual([0, 0]);
    const m = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Manifest;
    expect(m.notebooks.map((n) => [n.notebook, n.status])).toEqual([
      [quick, "passed"],
      [fixture("slow.ipynb"), "passed"],
    ]);
    const index = readFileSync(join(out, "index.html"), "utf8");
    expect(index).not.toMatch(/incomplete/i);
    expect(readdirSync(out).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it(
    "a cell that fills the heap: the kernel ran out of memory in cell N",
    { timeout: 90_000 },
    async () => {
      const out = tempDir("oom");
      const r = await cli(
        ["run", fixture("oom.ipynb"), "-o", out, "--no-progress", "--kernel-memory", "192"],
        { timeoutMs: 80_000 },
      );
      expect(r.status).toBe(1);
      const failed = lines(r.stderr).filter((l) => l.startsWith("FAILED"));
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatch(
        /the kernel ran out of memory in cell 2 \[id cell-2\] .*\(limit 192 MB of heap; raise it with --kernel-memory MB\)$/,
      );
      expect(r.stderr).not.toMatch(/SIGABRT|node::/);
    },
  );

  it("SIGHUP: exit 129, kernels gone, connection files removed", { timeout: 90_000 }, async () => {
    const tmp = tempDir("hup-tmp");
    const kernels = () => readdirSync(tmp).filter((f) => f.startsWith("execmem-lab-kernel-"));
    let started = false;
    const r = await cli(["run", fixture("slow.ipynb"), "-o", tempDir("hup-out"), "--no-progress"], {
      timeoutMs: 60_000,
      env: { ...process.env, TMPDIR: tmp },
      onStart: (child) => {
        const poll = setInterval(() => {
          // The kernel is running its slow cell once its connection file exists for a while.
          if (kernels().length && existsSync(join(tmp, kernels()[0], "connection.json"))) {
            clearInterval(poll);
            started = true;
            setTimeout(() => child.kill("SIGHUP"), 300);
          }
        }, 50);
        child.on("close", () => clearInterval(poll));
      },
    });
    expect(started).toBe(true);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(129);
    expect(r.stderr).toMatch(/interrupted \(SIGHUP\)/);
    expect(kernels()).toEqual([]);
  });
});
