import { describe, expect, it } from "vitest";
import {
  costModel,
  latencySweep,
  mitigationCost,
  allMitigationSubsets,
  CPU_COUNTS,
  STRATEGIES,
  DEFAULT_CONSTANTS,
} from "../lib";

describe("cost model: constants", () => {
  it("every constant of every arch has a source (citation, calibration, assumption or n/a)", () => {
    for (const [arch, ks] of Object.entries(DEFAULT_CONSTANTS))
      for (const [name, c] of Object.entries(ks)) {
        expect(c.source, `${arch}.${name}`).toMatch(/^(assumption|calibrated|not applicable)/);
        expect(c.value).toBeGreaterThanOrEqual(0);
      }
  });

  it("overrides replace a value, are reported, and change the results", () => {
    const base = costModel("arm64");
    const m = costModel("arm64", { ipiDeliveryNs: 900 });
    expect(m.constants.ipiDeliveryNs.value).toBe(900);
    expect(m.constants.ipiDeliveryNs.source).toMatch(/override from a cell/);
    const s = "aarch64_insn_patch_text_nosync+flush_icache_range";
    expect(base.latency(s, 8) - m.latency(s, 8)).toBeCloseTo(600, 6);
    expect(() => costModel("arm64", { nope: 1 } as never)).toThrow(/unknown constant nope/);
    expect(() => costModel("arm64", { dsbNs: -1 })).toThrow(/non-negative/);
  });
});

describe("cost model: strategies", () => {
  it("reproduces the published text_poke_bp figures it is calibrated on (24 CPUs)", () => {
    const m = costModel("x86-64");
    const one = m.latency("text_poke_bp", 24);
    const batch = m.latency("text_poke_bp_batch", 24, { sites: 56 });
    expect(one / 1e6).toBeGreaterThan(0.8);
    expect(one / 1e6).toBeLessThan(1.2);
    expect(batch / 1e6).toBeGreaterThan(1.2);
    expect(batch / 1e6).toBeLessThan(1.6);
    // 56 unbatched updates vs one batch: KERNEL-FACTS 57 ms -> 1.4 ms
    expect((56 * one) / batch).toBeGreaterThan(30);
    expect((56 * one) / batch).toBeLessThan(50);
  });

  it("breakdown steps sum to the latency; formulas for the simple steps hold", () => {
    for (const s of STRATEGIES) {
      const m = costModel(s.arch);
      const b = m.breakdown(s, 16);
      expect(b.reduce((t, x) => t + x.ns, 0)).toBeCloseTo(m.latency(s, 16), 6);
      for (const x of b) expect(x.formula.length).toBeGreaterThan(0);
    }
    const x = costModel("x86-64");
    const k = x.constants;
    expect(x.latency("text_poke", 64)).toBeCloseTo(
      k.pokeMapNs.value + 2 * k.cr3SwitchNs.value + k.copyNsPerLine.value + k.tlbFlushLocalNs.value,
      6,
    );
    expect(x.latency("jit_text_map", 256)).toBe(k.pteWriteNs.value); // no sync on x86
    const a = costModel("arm64");
    const zapDelta = a.latency("A5 sequence (zap direct map)", 8) - a.latency("A5 sequence", 8);
    expect(zapDelta).toBeCloseTo(
      a.constants.pteWriteNs.value + a.constants.tlbFlushRemoteNs.value,
      6,
    );
    // on x86 the zap is an IPI shootdown: it grows with the CPU count
    const xz = (n: number): number =>
      x.latency("A5 sequence (zap direct map)", n) - x.latency("A5 sequence", n);
    expect(xz(1)).toBe(k.pteWriteNs.value);
    expect(xz(64)).toBeGreaterThan(xz(2));
  });

  it("latency does not decrease with the CPU count for strategies with a cross-CPU step; local ones are flat", () => {
    for (const s of STRATEGIES) {
      const m = costModel(s.arch);
      const ys = CPU_COUNTS.map((n) => m.latency(s, n));
      for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeGreaterThanOrEqual(ys[i - 1] - 1e-9);
    }
    const x = costModel("x86-64");
    expect(x.latency("text_poke_copy", 256)).toBe(x.latency("text_poke_copy", 1));
    expect(x.latency("text_poke_bp", 256)).toBeGreaterThan(10 * x.latency("text_poke_bp", 1));
  });

  it("unknown strategy and bad CPU counts are errors", () => {
    expect(() => costModel("riscv64").latency("text_poke_bp", 4)).toThrow(
      /no strategy "text_poke_bp"/,
    );
    expect(() => costModel("riscv64").latency("patch_text", 0)).toThrow(
      /cpus must be a positive integer/,
    );
  });
});

describe("cost model: distributions", () => {
  it("seeded samples are reproducible and vary with the seed", () => {
    const m = costModel("riscv64");
    const a = m.sample("patch_text_nosync+flush_icache_all(ipi)", 32, 50, 7);
    expect(m.sample("patch_text_nosync+flush_icache_all(ipi)", 32, 50, 7)).toEqual(a);
    expect(m.sample("patch_text_nosync+flush_icache_all(ipi)", 32, 50, 8)).not.toEqual(a);
  });

  it("sweep covers every strategy × 1..256 CPUs with ordered quantiles", () => {
    const rows = latencySweep({ samples: 64 });
    expect(rows.length).toBe(STRATEGIES.length * CPU_COUNTS.length);
    for (const r of rows) {
      const q = r.quantiles;
      expect(q.min).toBeLessThanOrEqual(q.p10);
      expect(q.p10).toBeLessThanOrEqual(q.p50);
      expect(q.p50).toBeLessThanOrEqual(q.p90);
      expect(q.p90).toBeLessThanOrEqual(q.p99);
      expect(q.p99).toBeLessThanOrEqual(q.max);
    }
    const bp = rows.filter((r) => r.strategy === "text_poke_bp");
    expect(bp.at(-1)!.quantiles.p50).toBeGreaterThan(bp[0].quantiles.p50);
    expect(latencySweep({ samples: 16, seed: 3, arches: ["arm64"] })).toEqual(
      latencySweep({ samples: 16, seed: 3, arches: ["arm64"] }),
    );
  });
});

describe("mitigationCost (A11)", () => {
  it("a subset costs the sum of its measures; x86 needs no cache maintenance instruction", () => {
    for (const arch of ["x86-64", "arm64", "riscv64"] as const)
      for (const sub of allMitigationSubsets()) {
        const all = mitigationCost(arch, sub, 32);
        const sum = sub.reduce((t, id) => t + mitigationCost(arch, [id], 32).totalNs, 0);
        expect(all.totalNs).toBeCloseTo(sum, 6);
      }
    expect(mitigationCost("x86-64", [3], 64).totalNs).toBe(0);
    expect(mitigationCost("arm64", [3], 64).totalNs).toBeGreaterThan(0);
    expect(mitigationCost("arm64", [2], 64).measures[0]).toMatchObject({
      ns: 0,
      bytesWastedPerAllocation: 32,
    });
    // (4) is the cross-CPU part: grows with the CPU count
    expect(mitigationCost("riscv64", [4], 128).totalNs).toBeGreaterThan(
      mitigationCost("riscv64", [4], 4).totalNs,
    );
    expect(mitigationCost("arm64", [4], 1).totalNs).toBe(costModel("arm64").constants.isbNs.value);
    expect(() => mitigationCost("arm64", [5 as never], 4)).toThrow(/unknown mitigation 5/);
    expect(allMitigationSubsets().length).toBe(16);
  });
});

describe("idle-wake constants that are not measured carry a sourced range", () => {
  it("arm64 and riscv64 idleWakeNs have a range; at its ends the IPI-based patching reorders", () => {
    for (const a of ["arm64", "riscv64"] as const) {
      const c = DEFAULT_CONSTANTS[a].idleWakeNs;
      expect(c.range, a).toBeDefined();
      expect(c.range![0]).toBeLessThanOrEqual(c.value);
      expect(c.range![1]).toBeGreaterThanOrEqual(c.value);
      expect(c.rangeSource).toMatch(/exit-latency|exit/);
    }
    const [lo, hi] = DEFAULT_CONSTANTS.arm64.idleWakeNs.range!;
    const arm = (v: number) =>
      costModel("arm64", { idleWakeNs: v }).latency(
        "aarch64_insn_patch_text_nosync+flush_icache_range",
        256,
      );
    const x86 = costModel("x86-64").latency("text_poke_bp", 256);
    // Faster than x86's text_poke_bp at the low end of the range, slower at the high end.
    expect(arm(lo)).toBeLessThan(x86);
    expect(arm(hi)).toBeGreaterThan(x86);
    // stop_machine() patching does not depend on it.
    const sm = (v: number) =>
      costModel("arm64", { idleWakeNs: v }).latency("aarch64_insn_patch_text", 256);
    expect(sm(lo)).toBe(sm(hi));
  });
});
