/**
 * riscv64 mechanisms that change outcomes (each with a tests/scenarios/ file):
 * - an IPI (or SBI remote fence.i) is a device write, ordered after the code store only by
 *   fence w,o (arch/riscv/mm/cacheflush.c flush_icache_all());
 * - without Svvptc a TLB may keep an invalid translation until sfence.vma, so a PTE made valid
 *   still faults (spurious, handled by Linux); with Svvptc it does not.
 */
import { join } from "path";
import { describe, expect, it } from "vitest";
import { explore, loadScenario } from "../lib";

const DIR = join(__dirname, "scenarios");
const outcomes = (file: string, arch?: string) => {
  const spec = loadScenario(join(DIR, file));
  const r = explore(arch ? { ...spec, arch } : spec, { witnesses: false });
  expect(r.stats.complete).toBe(true);
  return [...new Set(r.outcomes.map((o) => o.values["1:r0"]))].sort();
};

describe("riscv64: IPIs are device writes ordered by fence w,o", () => {
  it("without fence w,o the IPI may overtake the code store: stale code runs", () => {
    expect(outcomes("riscv64-ipi-without-fence-w-o.litmus")).toContain("stale");
  });
  it("with fence w,o before the IPI only the new code runs", () => {
    expect(outcomes("riscv64-ipi-fence-w-o.litmus")).toEqual(["new"]);
  });
  it("flush_icache_all() as Linux writes it gives only the new code", () => {
    expect(outcomes("riscv64-flush_icache_all.litmus")).toEqual(["new"]);
  });
  it("fence.i: herd7's FENCE.I (riscv64) orders the IPI after the code store; the Zifencei text alone does not", () => {
    const f = "riscv64+fencei-local-ipi-without-fence-w-o.litmus";
    expect(outcomes(f)).toContain("stale");
    expect(outcomes(f, "riscv64")).toEqual(["new"]);
  });
});

describe("riscv64: Svvptc", () => {
  it("without Svvptc a PTE made valid may still fault (spurious, handled): the retry runs new", () => {
    expect(outcomes("riscv64-pte-invalid-to-valid.litmus")).toEqual(["new", "spurious-fault+new"]);
  });
  it("with Svvptc the same program never faults", () => {
    expect(outcomes("riscv64+svvptc-pte-invalid-to-valid.litmus")).toEqual(["new"]);
    // The two files differ only in the arch line: the mechanism alone changes the outcome set.
    expect(outcomes("riscv64-pte-invalid-to-valid.litmus", "riscv64+svvptc")).toEqual(["new"]);
  });
});
