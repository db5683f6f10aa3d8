/**
 * `execmem-lab explore`: the command function on the library's sources (the package import is
 * mapped to lib/ so the test needs no build), and — when kernel/dist is built — the real CLI.
 */
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { describe, expect, it } from "vitest";
import {
  runExplore,
  type ExploreCliOptions,
  type ExploreFileJson,
} from "../kernel/commands/explore";

const ROOT = join(__dirname, "..");
const S = (n: string) => join(__dirname, "scenarios", n);
const tmp = mkdtempSync(join(tmpdir(), "execmem-explore-"));
const WRONG = join(tmp, "wrong.litmus");
writeFileSync(
  WRONG,
  readFileSync(S("S1.litmus"), "utf8").replace("Result: Sometimes", "Result: Never"),
);
const BAD = join(tmp, "bad.litmus");
writeFileSync(BAD, readFileSync(S("S2.litmus"), "utf8").replace("cpuid();", "cpuid(;"));
/** The line of `file` that contains `text`. */
const lineOf = (file: string, text: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .findIndex((l) => l.includes(text)) + 1;
const BADLINE = lineOf(BAD, "cpuid(;");
// An arm64 instruction in an x86-64 file: the text parses, the machine refuses it.
const NOINSN = join(tmp, "noinsn.litmus");
writeFileSync(NOINSN, readFileSync(S("S2.litmus"), "utf8").replace("cpuid();", "isb();"));
const NOINSNLINE = lineOf(NOINSN, "isb();");

function run(files: string[], opts: ExploreCliOptions = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runExplore(files, opts, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("explore command", () => {
  it("prints a table: outcomes with counts, witnesses, states, observation and the check", () => {
    const r = run([S("S1.litmus")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("== ");
    expect(r.out).toContain("S1+direct-map-write+no-serialise (x86-64)");
    expect(r.out).toMatch(/1:r0=stale\s+\d+\s+holds/);
    expect(r.out).toMatch(/1:r0=new\s+\d+\s+-/);
    expect(r.out).toMatch(/\d+ states, .*complete/);
    expect(r.out).toContain("observation: Sometimes; expected Sometimes: OK");
    expect(r.out).toMatch(/witness for 1:r0=stale \(\d+ steps\):/);
    expect(r.out).toMatch(/step\s+cpu\s+action\s+effect/);
    expect(r.out).toMatch(/P1 hw\s+speculative fetch f\+0/);
  });

  it("--json: every outcome with count and shortest witness, states, completeness, observation", () => {
    const r = run([S("S4.litmus"), S("S8.litmus")], { json: true });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { files: ExploreFileJson[] };
    expect(j.files.map((f) => f.file)).toEqual([S("S4.litmus"), S("S8.litmus")]);
    const s4 = j.files[0];
    expect(s4).toMatchObject({
      scenario: "S4+unmapped+set_pte+release-acquire",
      arch: "x86-64",
      expected: "Never",
      observation: "Never",
      complete: true,
      contradicted: false,
    });
    expect(s4.states).toBeGreaterThan(0);
    expect(s4.outcomes!.map((o) => o.key)).toEqual(["1:r0=new", "1:r0=oops"]);
    for (const o of s4.outcomes!) {
      expect(o.count).toBeGreaterThan(0);
      expect(o.satisfies).toBe(false);
      expect(o.witness.steps.length).toBeGreaterThan(0);
      expect(Object.keys(o.witness.steps[0]).sort()).toEqual([
        "action",
        "cpu",
        "effect",
        "kind",
        "step",
        "sync",
      ]);
    }
    expect(j.files[1].outcomes!.map((o) => o.key)).toEqual(["1:r0=new"]);
  });

  it("--json --residency keeps each step's residency", () => {
    const j = JSON.parse(run([S("S1.litmus")], { json: true, residency: true }).out) as {
      files: ExploreFileJson[];
    };
    const w = j.files[0].outcomes![0].witness;
    expect(w.steps[0].residency).toBeInstanceOf(Array);
    expect(w.lines).toContain("f+0");
  });

  it("exit code 1 when a Result: line is contradicted", () => {
    const r = run([S("S2.litmus"), WRONG], { witnesses: false });
    expect(r.code).toBe(1);
    expect(r.out).toContain("observation: Sometimes; expected Never: CONTRADICTED");
    const j = JSON.parse(run([WRONG], { json: true }).out) as { files: ExploreFileJson[] };
    expect(j.files[0]).toMatchObject({
      expected: "Never",
      observation: "Sometimes",
      contradicted: true,
      matchesExpectation: false,
    });
  });

  it("exit code 2 with file:line:col on a malformed file; the other files still run", () => {
    const r = run([BAD, S("S1.litmus"), WRONG], { witnesses: false });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      new RegExp(`${BAD.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${BADLINE}:\\d+: syntax error`),
    );
    expect(r.out).toContain("expected Sometimes: OK");
    const j = JSON.parse(run([BAD], { json: true }).out) as { files: ExploreFileJson[] };
    expect(j.files[0].error).toMatchObject({ line: BADLINE });
    expect(j.files[0].error!.message).toContain("syntax error");
  });

  it("an error the machine's compile finds is at the file's line and column too", () => {
    const r = run([NOINSN], { json: true });
    expect(r.code).toBe(2);
    const j = JSON.parse(r.out) as { files: ExploreFileJson[] };
    expect(j.files[0].error).toEqual({
      message: `${NOINSN}:${NOINSNLINE}:3: ISB is not an instruction of x86-64 (it is arm64's)`,
      line: NOINSNLINE,
      column: 3,
    });
  });

  it("a missing file is exit code 2", () => {
    expect(run([join(tmp, "nope.litmus")]).code).toBe(2);
  });

  it("--sample RUNS --seed N, --max-states, --no-reduction", () => {
    const a = JSON.parse(run([S("S7.litmus")], { json: true, sample: 20, seed: 5 }).out) as {
      files: ExploreFileJson[];
    };
    const b = JSON.parse(run([S("S7.litmus")], { json: true, sample: 20, seed: 5 }).out) as {
      files: ExploreFileJson[];
    };
    expect(a.files[0].complete).toBe(false);
    expect(a.files[0].stoppedBy).toBe("sample");
    expect(a.files[0].outcomes!.map((o) => [o.key, o.count])).toEqual(
      b.files[0].outcomes!.map((o) => [o.key, o.count]),
    );
    const bounded = run([S("S7.litmus")], { maxStates: 10, witnesses: false });
    expect(bounded.code).toBe(0);
    expect(bounded.out).toMatch(/incomplete \(stopped by the state limit of 10 states\)/);
    // No verdict from a partial search, in text and JSON.
    expect(bounded.out).toContain(
      "observation: Undetermined (stopped by the state limit of 10 states); expected Sometimes: not checked",
    );
    expect(bounded.out).not.toMatch(/observation: (Never|Sometimes|Always)/);
    const bj = JSON.parse(run([S("S7.litmus")], { json: true, maxStates: 10 }).out) as {
      files: ExploreFileJson[];
    };
    expect(bj.files[0]).toMatchObject({
      observation: "Undetermined",
      limit: "the state limit of 10 states",
      matchesExpectation: null,
    });
    expect(a.files[0].observation).toBe("Undetermined");
    // The text table counts a sample's walks, a search's final states.
    const sampled = run([S("S7.litmus")], { sample: 20, seed: 5, witnesses: false }).out;
    expect(sampled).toMatch(/^ {2}outcome +walks {2}condition$/m);
    expect(bounded.out).toMatch(/^ {2}outcome +states {2}condition$/m);
    const full = JSON.parse(run([S("S1.litmus")], { json: true, reduction: false }).out) as {
      files: ExploreFileJson[];
    };
    expect(full.files[0].reduction).toBe("none");
    expect(full.files[0].observation).toBe("Sometimes");
  });
});

const CLI = join(ROOT, "kernel/dist/cli.js");
const built = existsSync(join(ROOT, "kernel/dist/commands/explore.js")) && existsSync(CLI);
describe.skipIf(!built)("node kernel/dist/cli.js explore (after npm run build)", () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, "explore", ...args], { cwd: ROOT, encoding: "utf8" });
  it("exit codes 0, 1, 2 and --json", () => {
    const ok = cli(S("S2.litmus"), "--json");
    expect(ok.status).toBe(0);
    expect((JSON.parse(ok.stdout) as { files: ExploreFileJson[] }).files[0].observation).toBe(
      "Never",
    );
    expect(cli(WRONG, "--no-witnesses").status).toBe(1);
    const bad = cli(BAD);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${BAD}:${BADLINE}:`);
  });

  it("--expansion-budget bounds the expansion of symmetric outcomes, and says so", () => {
    const two = S("x86-64-text_poke_bp-two-callers.litmus");
    const whole = cli(two, "--json");
    expect(whole.status).toBe(0);
    const j = (r: typeof whole) => (JSON.parse(r.stdout) as { files: ExploreFileJson[] }).files[0];
    expect(j(whole)).toMatchObject({
      reduction: "liveness+symmetry+partial-order",
      observation: "Never",
    });
    const cut = cli(two, "--json", "--expansion-budget", "3");
    expect(cut.status).toBe(0);
    expect(j(cut)).toMatchObject({
      observation: "Undetermined",
      limit: expect.stringContaining(
        "the expansion budget of 3 states per symmetric outcome",
      ) as unknown,
    });
    const bad = cli(two, "--expansion-budget", "0");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--expansion-budget must be an integer >= 1, got "0"');
  });
});
