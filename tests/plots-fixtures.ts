/**
 * Result objects for the plot tests, shaped like the explorer's, allocators' and cost model's
 * output (lib/model/result.ts, lib/plots input interfaces).
 */
import {
  type Figure,
  type ExplorationResult,
  type OutcomeResult,
  type ResidencyCell,
  type Structure,
  type Witness,
  type WitnessDiff,
  type WitnessStep,
  type FragmentationSeries,
  type FragmentationStep,
  type Extent,
  type LatencySeries,
} from "../lib";
import * as lib from "../lib";

type Change = [cpu: number, structure: Structure, line: string, version: string | null];

interface StepSpec {
  cpu: number;
  kind?: "program" | "hardware";
  action: string;
  effect?: string;
  sync?: boolean;
  set?: Change[];
}

/**
 * A witness whose residency snapshots and changes follow from the changes each step makes. Code
 * lines carry the version order `order`, as the machine's cells carry their region's.
 */
export function makeWitness(
  cpus: number,
  lines: string[],
  initial: Change[],
  specs: StepSpec[],
  order: readonly string[] = ["old", "new"],
): Witness {
  const state = new Map<string, ResidencyCell>();
  const apply = (changes: Change[]): WitnessDiff[] =>
    changes.map(([cpu, structure, line, version]) => {
      const k = `${cpu}|${structure}|${line}`;
      const from = state.get(k)?.version ?? null;
      const code = structure === "tlb" ? {} : { order };
      if (version === null) state.delete(k);
      else state.set(k, { cpu, structure, line, version, ...code });
      return { structure, cpu, line, from, to: version, ...code };
    });
  apply(initial);
  const init = [...state.values()];
  const steps: WitnessStep[] = specs.map((s, i) => {
    const changes = apply(s.set ?? []);
    return {
      step: i + 1,
      cpu: s.cpu,
      kind: s.kind ?? "program",
      action: s.action,
      changes,
      effect:
        s.effect ??
        (s.set ?? []).map(([c, st, l, v]) => `${st}[cpu${c}] ${l} := ${v ?? "invalid"}`).join(", "),
      sync: s.sync ?? false,
      residency: [...state.values()],
    };
  });
  return { steps, initial: init, lines, cpus };
}

/** `version` cached in `structure` for each line on each CPU. */
const cached = (
  structure: Structure,
  cpus: number[],
  lines: string[],
  version: string | null,
): Change[] => cpus.flatMap((c) => lines.map((l): Change => [c, structure, l, version]));

/** The hardware fetching `line` ahead of time into `cpu`'s pipeline. */
const speculate = (cpu: number, line: string, version: string): StepSpec => ({
  cpu,
  kind: "hardware",
  action: `speculative fetch ${line}`,
  set: [[cpu, "pipeline", line, version]],
});

/** The hardware filling `cpu`'s instruction cache with `line`. */
const fill = (cpu: number, line: string, version: string): StepSpec => ({
  cpu,
  kind: "hardware",
  action: `fill ${line}`,
  set: [[cpu, "icache", line, version]],
});

const BOTH = [0, 1];
const F = ["f+0", "f+1"];

/** x86-64, S1: new code written through the direct map, CPU1 jumps without serialising. */
export const staleWitness: Witness = makeWitness(
  2,
  F,
  [...cached("icache", BOTH, F, "old"), ...cached("tlb", BOTH, ["f"], "RX")],
  [
    ...F.map((l) => speculate(1, l, "old")),
    ...F.map((l): StepSpec => ({
      cpu: 0,
      action: `store ${l} (direct map)`,
      set: [[0, "dcache", l, "new"], ...cached("icache", BOTH, [l], null)],
    })),
    { cpu: 0, action: "store flag=1", effect: "store buffer[cpu0] flag = 1" },
    { cpu: 0, kind: "hardware", action: "drain flag=1", effect: "flag = 1 visible" },
    { cpu: 1, action: "load flag", effect: "r1 = 1" },
    { cpu: 1, action: "jump f", effect: "ran f+0 old, f+1 old" },
  ],
);

/** x86-64, S3: text_poke_sync() before the flag; the IPI's sync_core empties CPU1's pipeline. */
export const syncedWitness: Witness = makeWitness(
  2,
  F,
  [...cached("icache", [1], F, "trap"), ...cached("tlb", BOTH, ["f"], "RX")],
  [
    speculate(1, "f+0", "trap"),
    ...F.map((l): StepSpec => ({
      cpu: 0,
      action: `text_poke ${l}`,
      set: [
        [1, "icache", l, null],
        [0, "dcache", l, "new"],
      ],
    })),
    { cpu: 0, action: "text_poke_sync: IPI", effect: "IPI sent to cpu1" },
    {
      cpu: 1,
      action: "sync_core (IPI)",
      sync: true,
      effect: "pipeline[cpu1] flushed",
      set: [[1, "pipeline", "f+0", null]],
    },
    ...F.map((l) => fill(1, l, "new")),
    { cpu: 1, action: "jump f", effect: "ran f+0 new, f+1 new" },
  ],
);

/** arm64: a speculatively fetched fault stays in the pipeline; exception entry/return clears it. */
export const spuriousWitness: Witness = makeWitness(
  2,
  ["g+0"],
  [[0, "dcache", "g+0", "new"]],
  [
    speculate(1, "g+0", "fault"),
    { cpu: 0, action: "DC CVAU g+0; DSB ISH; IC IVAU g+0; DSB ISH" },
    { cpu: 0, action: "set PTE g RX", set: [[0, "tlb", "g", "RX"]] },
    { cpu: 1, action: "jump g", effect: "spurious-fault" },
    {
      cpu: 1,
      action: "exception entry/return",
      sync: true,
      set: [
        [1, "pipeline", "g+0", null],
        [1, "tlb", "g", "RX"],
      ],
    },
    {
      cpu: 1,
      kind: "hardware",
      action: "fetch g+0",
      set: [
        [1, "icache", "g+0", "new"],
        [1, "pipeline", "g+0", "new"],
      ],
    },
    { cpu: 1, action: "jump g", effect: "ran g+0 new" },
  ],
);

function outcome(
  key: string,
  values: Record<string, string>,
  witness: Witness,
  count = 1,
): OutcomeResult {
  return { key, values, count, satisfies: null, witness };
}

export function exploration(
  scenario: string,
  arch: string,
  outcomes: OutcomeResult[],
  complete = true,
): ExplorationResult {
  return {
    scenario,
    arch,
    outcomes,
    stats: {
      states: 1000,
      transitions: 3000,
      finalStates: outcomes.reduce((a, o) => a + o.count, 0),
      ms: 12,
      statesPerSecond: 80000,
      complete,
      reduction: "none",
      ...(complete ? {} : { stoppedBy: "states" as const }),
    },
    condition: "exists (1:r0=stale)",
    observation: outcomes.some((o) => o.values["1:r0"] === "stale") ? "Sometimes" : "Never",
    expected: null,
    matchesExpectation: null,
  };
}

export const s1: ExplorationResult = exploration("S1", "x86-64", [
  outcome("1:r0=new", { "1:r0": "new" }, syncedWitness, 5),
  outcome("1:r0=stale", { "1:r0": "stale" }, staleWitness, 3),
]);
export const s3: ExplorationResult = exploration("S3", "x86-64", [
  outcome("1:r0=new", { "1:r0": "new" }, syncedWitness, 7),
]);
export const s11: ExplorationResult = exploration("S11", "arm64", [
  outcome("1:r0=new", { "1:r0": "new" }, syncedWitness, 4),
  outcome(
    "1:r0=spurious-fault;1:r1=new",
    { "1:r0": "spurious-fault", "1:r1": "new" },
    spuriousWitness,
    2,
  ),
]);

/** A deterministic pseudo-random generator for sample data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const MiB = 1024 * 1024;
const KiB = 1024;

/** A first-fit allocator over a range, driven by a seeded alloc/free workload. */
export function fragmentationSeries(
  allocator: string,
  opts: { trapFill: boolean; chunk: number; huge: boolean; seed: number; steps?: number },
): FragmentationSeries {
  const rand = rng(opts.seed);
  const size = 4 * MiB;
  type Block = { start: number; end: number; used: boolean };
  let blocks: Block[] = [];
  let mapped = 0;
  const steps: FragmentationStep[] = [];
  const live: Block[] = [];
  let splits = 0;
  let huge = 0;
  for (let t = 0; t < (opts.steps ?? 120); t++) {
    let label: string;
    if (live.length && rand() < 0.4) {
      const b = live.splice(Math.floor(rand() * live.length), 1)[0];
      b.used = false;
      label = `free ${(b.end - b.start) / KiB} KiB`;
    } else {
      const want = Math.ceil(((4 + Math.floor(rand() * 60)) * KiB) / opts.chunk) * opts.chunk;
      let b = blocks.find((x) => !x.used && x.end - x.start >= want);
      if (!b) {
        const grow = opts.huge ? 2 * MiB : Math.max(want, 4 * KiB);
        if (mapped + grow > size) break;
        blocks.push({ start: mapped, end: mapped + grow, used: false });
        mapped += grow;
        if (opts.huge) huge += 1;
        else splits += 1;
        b = blocks[blocks.length - 1];
      }
      const rest = { start: b.start + want, end: b.end, used: false };
      b.end = b.start + want;
      b.used = true;
      blocks.splice(blocks.indexOf(b) + 1, 0, ...(rest.end > rest.start ? [rest] : []));
      live.push(b);
      label = `alloc ${want / KiB} KiB`;
    }
    // merge free neighbours
    const merged: Block[] = [];
    for (const b of blocks) {
      const last = merged[merged.length - 1];
      if (last && !last.used && !b.used && last.end === b.start) last.end = b.end;
      else merged.push(b);
    }
    blocks = merged;
    const extents: Extent[] = blocks.map((b) => ({
      start: b.start,
      end: b.end,
      state: b.used ? "allocated" : opts.trapFill ? "trap" : "free",
    }));
    steps.push({
      t,
      extents,
      freeExtents: blocks.filter((b) => !b.used).map((b) => b.end - b.start),
      directMapSplits: splits,
      hugeMappings: huge,
      label,
    });
  }
  return { allocator, range: { start: 0, end: size }, steps };
}

export const fragmentation: FragmentationSeries[] = [
  fragmentationSeries("ROX cache", { trapFill: true, chunk: 64, huge: true, seed: 1 }),
  fragmentationSeries("module_alloc + set_memory_rox", {
    trapFill: false,
    chunk: 4096,
    huge: false,
    seed: 1,
  }),
  fragmentationSeries("bpf_prog_pack", { trapFill: true, chunk: 64, huge: true, seed: 2 }),
];

/** Latency samples per strategy, architecture and CPU count (shape only, not the cost model). */
export function latencySeries(): LatencySeries[] {
  const out: LatencySeries[] = [];
  const rand = rng(7);
  const strategies: Array<[string, string, (n: number) => number]> = [
    ["text_poke_bp", "x86-64", (n) => 3000 + 900 * n],
    ["text_poke_bp (batched)", "x86-64", (n) => 1500 + 120 * n],
    ["aarch64_insn_patch_text", "arm64", (n) => 5000 + 1500 * n],
    ["patch_text + remote fence.i", "riscv64", (n) => 4000 + 1100 * Math.log2(2 * n) * n],
  ];
  for (const [strategy, arch, f] of strategies) {
    for (let cpus = 1; cpus <= 256; cpus *= 2) {
      const mean = f(cpus);
      out.push({
        strategy,
        arch,
        cpus,
        unit: "ns",
        samples: Array.from({ length: 40 }, () => mean * (0.8 + 0.4 * rand())),
      });
    }
  }
  return out;
}

/** plotly.js keeps http(s) links only (a relative link on a file: page is dropped). */
export const HREF = "https://example.org/report/a11.html#witness";

/** One figure of each kind, drawn from the results above. */
export function everyFigure(): Record<string, Figure> {
  const lat = latencySeries();
  return {
    residency: lib.residencyHeatmap(staleWitness, { versions: ["old", "new"] }),
    swimlane: lib.swimlane(syncedWitness, { outcome: "1:r0=new" }),
    witness: lib.witnessFigure(s11.outcomes[1]),
    fragmentation: lib.fragmentationFigure(fragmentation),
    histogram: lib.freeExtentHistogram(fragmentation),
    cdf: lib.latencyCdf(lat, { cpus: 64 }),
    box: lib.latencyBox(lat, { cpus: 64 }),
    scaling: lib.latencyVsCpus(lat, { logY: true }),
    scalingByArch: lib.latencyVsCpusByArch(lat),
    verdicts: lib.verdictTable(
      ["fresh allocation", "reuse of freed space"].flatMap((situation) =>
        ["x86-64", "arm64"].flatMap((arch) =>
          [[], ["4"], ["3", "4"]].map((ms) =>
            lib.verdictOf(ms.length ? s3 : s1, { arch, mitigations: ms, situation, href: HREF }),
          ),
        ),
      ),
      { mitigations: ["1", "2", "3", "4"] },
    ),
    outcomes: lib.outcomeBars([s1, s3, s11]),
  };
}
