// The cost of Song Liu's four measures (thread, 06-26; argument A11), per arch, as steps of
// the latency model with median constants:
//   (1) invalidate (trap-fill) unused parts of the huge ROX pages
//   (2) never put two JIT users in one cache line
//   (3) explicit cache maintenance
//   (4) context-synchronisation events
import { archNameOf, costStep as st, families, type ArchName, type Strategy } from "../arch";
import { costModel, type CostOverrides, type StepCost } from "./model";

export type MitigationId = 1 | 2 | 3 | 4;
export const MITIGATIONS: Readonly<Record<MitigationId, string>> = {
  1: "trap-fill unused parts of the huge ROX pages",
  2: "no two JIT users in one cache line",
  3: "explicit cache maintenance",
  4: "context-synchronisation events",
};

export interface MitigationCost {
  arch: ArchName;
  subset: MitigationId[];
  cpus: number;
  measures: {
    id: MitigationId;
    name: string;
    ns: number;
    bytesWastedPerAllocation: number;
    steps: StepCost[];
  }[];
  totalNs: number;
}

type S = Strategy["steps"][number];

function stepsFor(arch: ArchName, id: MitigationId): S[] {
  const m = families[arch].cost.measures;
  if (id === 1)
    return [
      ...m.pokeMap,
      st(
        "write trap instructions (lines)",
        "lines × copyNsPerLine",
        (c) => c.lines * c.k("copyNsPerLine"),
      ),
      st("local TLB flush of the poking alias", "tlbFlushLocalNs", (c) => c.k("tlbFlushLocalNs")),
    ];
  if (id === 2) return [];
  if (id === 3) return [...m.maintenance];
  return [...m.sync];
}

/**
 * mitigationCost(arch, subset, cpus): latency of applying the subset once for a publication of
 * `bytes` bytes, and the space the cache-line rule costs (expected padding to 64 bytes, assuming
 * uniformly distributed end offsets).
 */
export function mitigationCost(
  arch: ArchName,
  subset: readonly MitigationId[],
  cpus: number,
  opts: { bytes?: number; overrides?: CostOverrides } = {},
): MitigationCost {
  arch = archNameOf(arch) ?? arch;
  for (const id of subset)
    if (![1, 2, 3, 4].includes(id))
      throw new Error(`mitigationCost(${arch}): unknown mitigation ${String(id)}; expected 1..4`);
  const ids = [...new Set(subset)].sort((a, b) => a - b) as MitigationId[];
  const m = costModel(arch, opts.overrides ?? {});
  const bytes = opts.bytes ?? 4096;
  const measures = ids.map((id) => {
    const strat: Strategy = {
      name: `mitigation ${id}`,
      arch,
      args: ["A11"],
      description: MITIGATIONS[id],
      bytes,
      sites: 1,
      steps: stepsFor(arch, id),
    };
    const steps = m.breakdown(strat, cpus);
    return {
      id,
      name: MITIGATIONS[id],
      ns: steps.reduce((t, s) => t + s.ns, 0),
      bytesWastedPerAllocation: id === 2 ? 32 : 0,
      steps,
    };
  });
  return { arch, subset: ids, cpus, measures, totalNs: measures.reduce((t, x) => t + x.ns, 0) };
}

/** All 16 subsets of {1,2,3,4}. */
export function allMitigationSubsets(): MitigationId[][] {
  const out: MitigationId[][] = [];
  for (let mask = 0; mask < 16; mask++)
    out.push(([1, 2, 3, 4] as MitigationId[]).filter((_, i) => mask & (1 << i)));
  return out;
}
