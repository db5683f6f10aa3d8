// The latency model: evaluates strategies (lib/arch/<name>/cost.ts, strategies.ts) with the named
// constants, deterministically (medians) or as seeded samples with log-normal jitter.
import {
  ARCHES,
  archNameOf,
  type ArchName,
  type CostConstant,
  type CostConstantName,
  type CostConstants,
  type CostCtx,
  type Strategy,
} from "../arch";
import { mulberry32, type Rng } from "../model";
import { withOverrides } from "./constants";
import { STRATEGIES, strategiesFor } from "./strategies";

export type CostOverrides = Partial<Record<CostConstantName, number | Partial<CostConstant>>>;

export interface EvalOptions {
  /** Size of the change in bytes (default: the strategy's). */
  bytes?: number;
  /** Sites in a batch (default: the strategy's). */
  sites?: number;
}

export interface StepCost {
  step: string;
  formula: string;
  ns: number;
}

export interface Quantiles {
  min: number;
  p10: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface SweepRow {
  strategy: string;
  arch: ArchName;
  cpus: number;
  /** Latency of the median-constant evaluation. */
  medianModelNs: number;
  quantiles: Quantiles;
  samples?: number[];
}

function ctxMedian(
  arch: ArchName,
  k: CostConstants,
  cpus: number,
  lines: number,
  sites: number,
): CostCtx {
  const v = (n: CostConstantName): number => k[n].value;
  return ctxOf(arch, cpus, lines, sites, v, (handler) => {
    const n = cpus - 1;
    if (n <= 0) return 0;
    const pAnyIdle = 1 - Math.pow(1 - v("idleFraction"), n);
    return (
      n * v("ipiSendNs") +
      v("ipiDeliveryNs") +
      pAnyIdle * v("idleWakeNs") +
      handler.reduce((s, h) => s + v(h), 0) +
      v("ipiAckNs")
    );
  });
}

/** The cost context over constant values `k` (mean or sampled) and an IPI-sync rule. */
function ctxOf(
  arch: ArchName,
  cpus: number,
  lines: number,
  sites: number,
  k: (n: CostConstantName) => number,
  syncIpi: CostCtx["syncIpi"],
): CostCtx {
  return {
    arch,
    cpus,
    lines,
    sites,
    k,
    syncIpi,
    stopMachine: () => k("stopMachineBaseNs") + cpus * k("stopMachinePerCpuNs"),
    sbiRemoteFenceI: () =>
      cpus > 1 ? k("sbiRemoteFenceIBaseNs") + (cpus - 1) * k("sbiRemoteFenceIPerHartNs") : 0,
  };
}

function ctxSample(
  arch: ArchName,
  k: CostConstants,
  cpus: number,
  lines: number,
  sites: number,
  rng: Rng,
): CostCtx {
  const s = (n: CostConstantName): number => {
    const c = k[n];
    return c.value === 0 || c.spread === 0 ? c.value : c.value * Math.exp(c.spread * rng.normal());
  };
  return ctxOf(arch, cpus, lines, sites, s, (handler) => {
    const n = cpus - 1;
    if (n <= 0) return 0;
    const p = k.idleFraction.value;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      let d = s("ipiDeliveryNs");
      if (rng.next() < p) d += s("idleWakeNs");
      if (d > worst) worst = d;
    }
    return n * s("ipiSendNs") + worst + handler.reduce((t, h) => t + s(h), 0) + s("ipiAckNs");
  });
}

/**
 * min, p10, p50, p90, p99, max and mean of `xs` (nearest-rank, same units as `xs`); `xs` must
 * not be empty (the fields are undefined/NaN otherwise).
 */
export function quantiles(xs: readonly number[]): Quantiles {
  const a = [...xs].sort((x, y) => x - y);
  const q = (p: number): number => a[Math.min(a.length - 1, Math.floor(p * a.length))];
  return {
    min: a[0],
    p10: q(0.1),
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: a[a.length - 1],
    mean: a.reduce((s, x) => s + x, 0) / a.length,
  };
}

/**
 * The cost model of one architecture: what each strategy of publishing new text costs (in
 * nanoseconds of CPU time, summed over CPUs) against the number of CPUs, from the constants in
 * lib/cost, optionally overridden.
 */
export class CostModel {
  readonly arch: ArchName;
  readonly constants: CostConstants;
  constructor(arch: ArchName, overrides: CostOverrides = {}) {
    // a typed name may be spelled another way ("x86_64") or name a variant ("arm64+idc")
    this.arch = archNameOf(arch) ?? arch;
    this.constants = withOverrides(this.arch, overrides);
  }

  strategies(): Strategy[] {
    return strategiesFor(this.arch);
  }

  strategy(name: string): Strategy {
    const s = STRATEGIES.find((x) => x.arch === this.arch && x.name === name);
    if (!s)
      throw new Error(
        `costModel(${this.arch}): no strategy "${name}"; have: ${this.strategies()
          .map((x) => x.name)
          .join(", ")}`,
      );
    return s;
  }

  private dims(s: Strategy, o: EvalOptions): { lines: number; sites: number } {
    const bytes = o.bytes ?? s.bytes;
    return { lines: Math.max(1, Math.ceil(bytes / 64)), sites: o.sites ?? s.sites };
  }

  private checkCpus(cpus: number): void {
    if (!Number.isInteger(cpus) || cpus < 1)
      throw new Error(`costModel(${this.arch}): cpus must be a positive integer, got ${cpus}`);
  }

  /** The cost of each step with median constants. */
  breakdown(name: string | Strategy, cpus: number, o: EvalOptions = {}): StepCost[] {
    this.checkCpus(cpus);
    const s = typeof name === "string" ? this.strategy(name) : name;
    const { lines, sites } = this.dims(s, o);
    const ctx = ctxMedian(this.arch, this.constants, cpus, lines, sites);
    return s.steps.map((st) => ({ step: st.name, formula: st.formula, ns: st.cost(ctx) }));
  }

  /** Total latency with median constants. */
  latency(name: string | Strategy, cpus: number, o: EvalOptions = {}): number {
    return this.breakdown(name, cpus, o).reduce((t, x) => t + x.ns, 0);
  }

  /** n seeded samples of the total latency (constants jittered log-normally, idle targets drawn). */
  sample(
    name: string | Strategy,
    cpus: number,
    n: number,
    seed = 1,
    o: EvalOptions = {},
  ): number[] {
    this.checkCpus(cpus);
    const s = typeof name === "string" ? this.strategy(name) : name;
    const { lines, sites } = this.dims(s, o);
    const rng = mulberry32(seed ^ (cpus * 2654435761));
    const out: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const ctx = ctxSample(this.arch, this.constants, cpus, lines, sites, rng);
      let t = 0;
      for (const st of s.steps) t += st.cost(ctx);
      out[i] = t;
    }
    return out;
  }
}

/** costModel("arm64", { ipiDeliveryNs: 900 }) */
export function costModel(arch: ArchName, overrides: CostOverrides = {}): CostModel {
  return new CostModel(arch, overrides);
}

export const CPU_COUNTS: readonly number[] = [1, 2, 4, 8, 16, 24, 32, 64, 128, 256];

/** The points a latency sweep covers: architectures × their strategies × CPU counts. */
export interface LatencyGrid {
  arches: readonly ArchName[];
  /** Strategy names to keep (every strategy of each architecture when not given). */
  strategies: readonly string[];
  cpus: readonly number[];
}

/** latencySweep()'s options: the grid (default every architecture and CPU_COUNTS) and sampling. */
export interface LatencySweepOptions extends Partial<LatencyGrid> {
  /** Samples per point (default 200), drawn from `seed` (default 1). */
  samples?: number;
  seed?: number;
  /** Keep every sample in the rows (for distributions). */
  keepSamples?: boolean;
  overrides?: Partial<Record<ArchName, CostOverrides>>;
  eval?: EvalOptions;
}

/** Latency distribution of every (strategy, arch, cpus). Seeded and reproducible. */
export function latencySweep(o: LatencySweepOptions = {}): SweepRow[] {
  const arches = o.arches ?? ARCHES;
  const cpusList = o.cpus ?? CPU_COUNTS;
  const n = o.samples ?? 200;
  const rows: SweepRow[] = [];
  for (const arch of arches) {
    const m = costModel(arch, o.overrides?.[arch] ?? {});
    for (const s of m.strategies()) {
      if (o.strategies && !o.strategies.includes(s.name)) continue;
      for (const cpus of cpusList) {
        const xs = m.sample(s, cpus, n, o.seed ?? 1, o.eval);
        rows.push({
          strategy: s.name,
          arch: m.arch,
          cpus,
          medianModelNs: m.latency(s, cpus, o.eval),
          quantiles: quantiles(xs),
          ...(o.keepSamples ? { samples: xs } : {}),
        });
      }
    }
  }
  return rows;
}
