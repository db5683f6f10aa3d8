/**
 * The agreement floor on herd7's RISC-V instruction-fetch corpus (tests/support/corpus.ts):
 * each kinds file on its riscv64 variant, and the Zifencei text alone where it differs. A file
 * of its own (its explorations take most of the RISC-V tests' time) so that it runs beside them.
 */
import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { agreeKinds, RISCV_CONFIGS } from "../lib";
import { litmusCorpus } from "./support/corpus";

const ROOT = join(__dirname, "..");
const corpus = litmusCorpus("riscv-ifetch");
const CORPUS = corpus.dir;

/**
 * The floor on herd7's RISC-V corpus: at least 34 of 37 per configuration; each test that
 * disagrees must be named in docs/litmus.md's RISC-V section with the rule that differs.
 */
describe.skipIf(corpus.skip)(corpus.title("riscv-ifetch corpus agreement"), () => {
  const have = corpus.present;
  const doc = readFileSync(join(ROOT, "docs", "litmus.md"), "utf8");
  const riscvDoc = doc.slice(doc.indexOf("## RISC-V"));
  for (const c of RISCV_CONFIGS) {
    it(`${c.kinds} on ${c.arch}: at least 34/37 agree, every disagreement explained`, () => {
      expect(have, "../shared/litmus/riscv-ifetch is missing under CI").toBe(true);
      const r = agreeKinds(CORPUS, c);
      expect(r.entries.length).toBe(37);
      expect(r.agreed.length).toBeGreaterThanOrEqual(34);
      for (const n of [...r.disagreed, ...r.unsupported]) expect(riscvDoc).toContain(n);
    }, 120_000);
  }
  it("riscv64+fencei-local (the Zifencei text alone) differs from herd7 exactly where docs/litmus.md says", () => {
    expect(have, "../shared/litmus/riscv-ifetch is missing under CI").toBe(true);
    const r = agreeKinds(CORPUS, { kinds: "Ziccif-only", arch: "riscv64+fencei-local" });
    expect(r.disagreed.length).toBeGreaterThan(0);
    const table = riscvDoc.slice(riscvDoc.indexOf("| test | herd7 (Ziccif-only)"));
    const documented = [...table.matchAll(/^\| `([^`]+)` \| Forbid \| Forbid \| Allow \|$/gm)].map(
      (m) => m[1],
    );
    expect([...r.disagreed].sort()).toEqual(documented.sort());
  }, 120_000);
});
