/** `execmem-lab run` on bad input: one line, exit 2, before any kernel starts; nothing lost. */
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { cli, fixture, lines, tempDir } from "./support";

const quick = fixture("quick.ipynb");

describe("run: bad options and paths", () => {
  it("an unknown option: exit 2 and one line", async () => {
    const r = await cli(["run", "--bogus", quick]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toEqual(["execmem-lab: unknown option '--bogus'"]);
  });

  it("-o where no folder can be made: exit 2 naming it, no hang", async () => {
    const r = await cli(["run", quick, "-o", "/proc/x/report", "--no-progress"], {
      timeoutMs: 10_000,
    });
    expect(r.hung).toBe(false);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot create output directory \/proc\/x\/report: ENOENT/);
  });

  it("-t beyond node's timer range is refused", async () => {
    const r = await cli(["run", quick, "-t", "1e9", "-o", tempDir("t"), "--no-progress"]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/--timeout must be at most 2147483, got "1e9"/);
  });

  it("-p NAME 1e999 names the parameter instead of injecting null", async () => {
    const r = await cli(["run", "tests/fixtures/runner/params.ipynb", "-p", "count", "1e999"]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/-p count 1e999: 1e999 is out of range/);
  });

  it("refuses to overwrite the notebook it runs", async () => {
    const dir = tempDir("self");
    const nb = join(dir, "quick.ipynb");
    copyFileSync(quick, nb);
    const before = readFileSync(nb, "utf8");
    const r = await cli(["run", nb, "-o", dir, "--no-progress"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/quick\.ipynb: the executed notebook would overwrite it/);
    expect(readFileSync(nb, "utf8")).toBe(before);
    expect(readdirSync(dir)).toEqual(["quick.ipynb"]);
  });
});

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

describe("kernel install", () => {
  it("--prefix where nothing can be written: one line, exit 2", async () => {
    const file = join(tempDir("prefix"), "a-file");
    writeFileSync(file, "");
    const r = await cli(["kernel", "install", "--prefix", join(file, "x")]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/kernel install: cannot write to .*a-file\/x: ENOTDIR/);
  });
});
