/**
 * The command line loads the module of the command it runs, not every command's: `kernel` and
 * `run` start without the model (the runner and report need the library's display module
 * alone), `explore` without the runner. Help lists every command; an unknown one is exit 2.
 */
import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync } from "fs";
import { tmpdir } from "os";
import { join, relative } from "path";
import { describe, expect, it } from "vitest";
import { CLI, FIXTURES, ROOT } from "./kernel-support";

const tmp = mkdtempSync(join(tmpdir(), "execmem-cli-startup-"));

/** Run the built CLI with `args`; its exit status, stderr and the modules it loaded (from ROOT). */
function cli(...args: string[]) {
  const out = join(tmp, `${args.join("_").replace(/\W+/g, "-")}.json`);
  const r = spawnSync(
    process.execPath,
    ["--require", join(FIXTURES, "cli", "loaded-modules.js"), CLI, ...args],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, LOADED_MODULES_OUT: out } },
  );
  const loaded = (JSON.parse(readFileSync(out, "utf8")) as string[]).map((f) => relative(ROOT, f));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded };
}

const MODEL = "lib/dist/machine/machine.js";
const LIBRARY = "lib/dist/index.js";
const RUNNER = "kernel/dist/runner/run.js";

describe("command line start-up", () => {
  it("kernel: neither the library nor the runner", () => {
    const r = cli("kernel", "--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("install");
    expect(r.loaded).toContain("kernel/dist/commands/kernel.js");
    expect(r.loaded.filter((f) => f.startsWith("lib/dist/") || f === RUNNER)).toEqual([]);
  });

  it("run: the runner and the library's display module, not the model", () => {
    const r = cli("run", "no-such-notebook.ipynb");
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("execmem-lab: no-such-notebook.ipynb: notebook not found\n");
    expect(r.loaded).toContain(RUNNER);
    expect(r.loaded).toContain("lib/dist/display.js");
    expect(r.loaded).not.toContain(LIBRARY);
    expect(r.loaded).not.toContain(MODEL);
    expect(r.loaded.filter((f) => f.startsWith("kernel/dist/commands/"))).toEqual([
      "kernel/dist/commands/run.js",
      "kernel/dist/commands/options.js",
    ]);
  });

  it("explore: the library, not the runner", () => {
    const r = cli("explore", join("tests", "scenarios", "S1.litmus"));
    expect(r.status).toBe(0);
    expect(r.loaded).toContain(MODEL);
    expect(r.loaded).not.toContain(RUNNER);
  });

  it("help lists every command; an unknown command is exit 2 with one line", () => {
    const help = cli("--help");
    expect(help.status).toBe(0);
    for (const c of ["kernel", "run", "explore", "render", "litmus", "agree"])
      expect(help.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    const bad = cli("frobnicate");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^execmem-lab: unknown command 'frobnicate'/);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  });
});
