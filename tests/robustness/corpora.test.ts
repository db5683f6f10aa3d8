/** A plain clone without ../shared: the corpus tests say what is missing; CI requires it. */
import { describe, expect, it } from "vitest";
import { IN_CI } from "../kernel-support";
import { litmusCorpus } from "../support/corpus";

describe("litmus corpora", () => {
  for (const name of ["aarch64-ifetch"]) {
    const c = litmusCorpus(name);
    it.skipIf(!c.present && !IN_CI)(c.title(`${name} is present`), () => {
      expect(
        c.present,
        `litmus corpus ${c.dir} not found: it comes with ../shared beside the checkout (README, "Litmus corpora")`,
      ).toBe(true);
      expect(c.files.length).toBeGreaterThan(0);
    });
  }

  it("a missing corpus is skipped with its reason outside CI, run (and failed) in CI", () => {
    const c = litmusCorpus("no-such-corpus");
    expect(c.present).toBe(false);
    expect(c.files).toEqual([]);
    expect(c.skip).toBe(!IN_CI);
    if (!IN_CI)
      expect(c.title("suite")).toMatch(/SKIPPED: litmus corpus .*no-such-corpus not found/);
  });
});
