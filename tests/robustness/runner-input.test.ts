/** `execmem-lab run` on bad input: one line, exit 2, before any kernel starts; nothing lost. */
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from "fs";
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
