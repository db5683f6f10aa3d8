/**
 * `execmem-lab litmus` and `execmem-lab agree`: the command functions on the library's sources
 * (the package import is mapped to lib/), and the real CLI when kernel/dist is built.
 */
import { spawnSync } from "child_process";
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { litmusCorpus } from "./support/corpus";

import { runLitmusCli, type LitmusFileJson } from "../kernel/commands/litmus";
import { runAgreeCli, runAgreeCorpora } from "../kernel/commands/agree";

const ROOT = join(__dirname, "..");
const corpus = litmusCorpus("aarch64-ifetch");
const CORPUS = corpus.dir;
const C = (f: string) => join(CORPUS, f);
const tmp = mkdtempSync(join(tmpdir(), "execmem-litmus-"));
const UNSUPPORTED = join(tmp, "U.litmus");
writeFileSync(
  UNSUPPORTED,
  ["AArch64 U", "{ 0:X1=x; }", " P0           ;", " LDXR W0,[X1] ;", "exists 0:X0=1", ""].join(
    "\n",
  ),
);

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe.skipIf(corpus.skip)(corpus.title("litmus command"), () => {
  it("prints herd7-style results: states, Ok, Positive/Negative, Observation p q, Time", () => {
    const o = io();
    expect(runLitmusCli([C("CoFR.litmus")], {}, o.io)).toBe(0);
    const text = o.out.join("\n");
    expect(text).toContain("Test CoFR Forbidden");
    expect(text).toMatch(/^States 3$/m);
    expect(text).toContain('1:X0=2; 1:X1=instr:"B .+4";');
    expect(text).toMatch(/^Ok$/m);
    expect(text).toContain("Positive: 0 Negative: 3");
    expect(text).toContain('Condition ~exists (1:X0=2 /\\ 1:X1=instr:"B .+12")');
    expect(text).toMatch(/^Observation CoFR Never 0 3$/m);
    expect(text).toMatch(/^Time CoFR \d+\.\d\d$/m);
  });

  it("--json gives the same as data, with witnesses when asked", () => {
    const o = io();
    expect(runLitmusCli([C("SM.litmus")], { json: true, witnesses: true }, o.io)).toBe(0);
    const j = JSON.parse(o.out.join("\n")) as { files: LitmusFileJson[] };
    const r = j.files[0].result!;
    expect(r).toMatchObject({
      name: "SM",
      arch: "arm64",
      kind: "Allowed",
      observation: "Sometimes",
      positive: 1,
      negative: 1,
      ok: true,
      complete: true,
    });
    expect(r.states.map((s) => [s.values, s.satisfies])).toEqual([
      [{ "0:X2": "1" }, true],
      [{ "0:X2": "2" }, false],
    ]);
    for (const s of r.states) {
      expect(s.witness!.steps.length).toBeGreaterThan(0);
      expect(s.witness!.steps[0]).toHaveProperty("residency");
    }
    // The stale run's witness shows the fetch of the old instruction.
    const stale = r.states.find((s) => s.satisfies)!;
    expect(stale.witness!.steps.map((x) => x.action).join("\n")).toContain("execute P0_f");
  });

  it("an incomplete exploration gives no verdict: Undetermined with the limit, text and JSON", () => {
    for (const f of ["CoFR.litmus", "SM.litmus"]) {
      const o = io();
      expect(runLitmusCli([C(f)], { maxStates: 5 }, o.io)).toBe(0);
      const text = o.out.join("\n");
      expect(text).toMatch(/^Undetermined \(stopped by the state limit of 5 states\)$/m);
      expect(text).not.toMatch(/^(Ok|No)$/m);
      expect(text).toMatch(
        /^Observation \S+ Undetermined \(stopped by the state limit of 5 states\)$/m,
      );
      const j = io();
      runLitmusCli([C(f)], { maxStates: 5, json: true }, j.io);
      const r = (JSON.parse(j.out.join("\n")) as { files: LitmusFileJson[] }).files[0].result!;
      expect(r).toMatchObject({
        ok: null,
        verdict: "Undetermined",
        observation: null,
        complete: false,
        limit: "the state limit of 5 states",
      });
    }
  });

  it("an instruction outside the subset is an unsupported error naming file, line, instruction", () => {
    const o = io();
    expect(runLitmusCli([UNSUPPORTED, C("SM.litmus")], { json: true }, o.io)).toBe(2);
    expect(o.err).toEqual([
      `execmem-lab litmus: unsupported: ${UNSUPPORTED}:4:2: instruction "LDXR W0,[X1]" is not in the supported AArch64 subset (see docs/litmus.md)`,
    ]);
    const j = JSON.parse(o.out.join("\n")) as { files: LitmusFileJson[] };
    expect(j.files[0].error).toMatchObject({
      line: 4,
      column: 2,
      instruction: "LDXR W0,[X1]",
      unsupported: true,
    });
    expect(j.files[1].result?.observation).toBe("Sometimes");
  });
});

describe.skipIf(corpus.skip)(corpus.title("agree command"), () => {
  const dir = mkdtempSync(join(tmpdir(), "execmem-agree-"));
  if (corpus.present)
    for (const f of ["SM.litmus", "CoFR.litmus"]) copyFileSync(C(f), join(dir, f));
  copyFileSync(UNSUPPORTED, join(dir, "U.litmus"));
  writeFileSync(
    join(dir, "expected.tsv"),
    "# name\tfile\tobservation\nSM\tSM.litmus\tSometimes\nCoFR\tCoFR.litmus\tSometimes\nU\tU.litmus\tNever\n",
  );

  it("prints agreed / disagreed / unsupported with names and the time", () => {
    const o = io();
    expect(runAgreeCli(dir, {}, o.io)).toBe(1);
    const text = o.out.join("\n");
    expect(text).toMatch(/^agreed {7}SM: herd7 Sometimes, machine Sometimes 1 1/m);
    expect(text).toMatch(/^disagreed {4}CoFR: herd7 Sometimes, machine Never 0 3/m);
    expect(text).toMatch(/^unsupported {2}U: .*U\.litmus:4:2: instruction "LDXR W0,\[X1\]"/m);
    expect(text).toMatch(/^agreed 1\/3, disagreed 1, unsupported 1; 3 tests in \d+\.\d\d s$/m);
    expect(text).toContain("disagreed: CoFR");
    expect(text).toContain("unsupported: U");
  });

  it("--json", () => {
    const o = io();
    runAgreeCli(dir, { json: true }, o.io);
    const j = JSON.parse(o.out.join("\n"));
    expect(j).toMatchObject({ agreed: ["SM"], disagreed: ["CoFR"], unsupported: ["U"], total: 3 });
    expect(j.tests[2]).toMatchObject({ status: "unsupported", instruction: "LDXR W0,[X1]" });
  });

  it("several named corpora with --summary: one line per corpus", () => {
    const o = io();
    const loads = join(ROOT, "tests", "litmus-loads");
    expect(
      runAgreeCorpora([`Mine=${dir}`, `AArch64 loads=${loads}`], { summary: true }, o.io),
    ).toBe(1);
    expect(o.out[0]).toMatch(
      /^Mine: agreed 1\/3, disagreed 1, unsupported 1; 3 tests in \d+\.\d\d s$/,
    );
    expect(o.out.slice(1, 3)).toEqual(["  disagreed: CoFR", "  unsupported: U"]);
    expect(o.out[3]).toMatch(/^AArch64 loads: agreed 19\/19, disagreed 0, unsupported 0;/);
    expect(o.out).toHaveLength(4);
  });

  it("a directory without expected.tsv is an error (exit 2)", () => {
    const o = io();
    expect(runAgreeCli(tmp, {}, o.io)).toBe(2);
    expect(o.err[0]).toMatch(/expected\.tsv/);
  });

  it.runIf(existsSync(join(ROOT, "kernel", "dist", "commands", "agree.js")))(
    "the real CLI: litmus --json and agree",
    () => {
      const cli = join(ROOT, "kernel", "dist", "cli.js");
      const r = spawnSync(process.execPath, [cli, "litmus", "--json", C("SM+isb.litmus")], {
        encoding: "utf8",
      });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout).files[0].result.observation).toBe("Sometimes");
      const a = spawnSync(process.execPath, [cli, "agree", dir], { encoding: "utf8" });
      expect(a.status).toBe(1);
      expect(a.stdout).toContain("agreed 1/3");
    },
  );
});
