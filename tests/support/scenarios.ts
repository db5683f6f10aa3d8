/** Scenario generators shared by the machine and explorer tests. */
import fc from "fast-check";
import { architectures, scenario, type Program, type ScenarioSpec } from "../../lib";

/** A writer or reader part of {@link publish} that adds nothing. */
export const nothing = (): void => {};

/** The acceptance scenarios of MODEL.md built with the TypeScript builder. */
export function publish(
  arch: string,
  writer: (p: Program) => void,
  reader: (p: Program) => void,
  opts: { unmapped?: boolean; lines?: number } = {},
): ScenarioSpec {
  const b = scenario("publish", arch)
    .data({ flag: 0 })
    .code("f", { lines: opts.lines ?? 2, versions: ["old", "new"], initial: "old" });
  if (opts.unmapped) b.page("f", "none");
  return b
    .cpu((p) => {
      p.text_write("f", "new");
      writer(p);
      p.smp_store_release("flag", 1);
    })
    .cpu((p) => {
      p.smp_cond_load_acquire("flag", 1);
      reader(p);
      p.call("r0", "f");
    })
    .build();
}

/** The instruction that is a context-synchronising event on each family. */
export const CSE: Record<string, string> = { "x86-64": "CPUID", arm64: "ISB", riscv64: "fence.i" };

const familyInsns: Record<string, string[]> = {
  "x86-64": ["CPUID", "MFENCE"],
  arm64: ["DC CVAU f", "IC IVAU f", "DSB ISH", "ISB", "DMB ISH"],
  riscv64: ["fence.i", "fence", "fence w,w"],
};
const familyMacros: Record<string, string[]> = {
  "x86-64": ["text_poke_sync", "sync_core"],
  arm64: ["flush_icache_range f", "kick_all_cpus_sync"],
  riscv64: ["flush_icache_all"],
};

export type GenOp = { insn: string } | { macro: string } | { pte: true };

function apply(p: Program, g: GenOp) {
  if ("insn" in g) {
    const [name, target] = g.insn.endsWith(" f") ? [g.insn.slice(0, -2), "f"] : [g.insn, undefined];
    p.insn(name, target);
  } else if ("macro" in g) {
    const [name, region] = g.macro.split(" ");
    p.macro(name, region);
  } else p.set_pte("f", "RX");
}

export interface GenScenario {
  arch: string;
  lines: number;
  initial: "old" | "trap";
  unmapped: boolean;
  writer: GenOp[];
  readers: GenOp[][];
  interrupts: number;
}

export const genScenario: fc.Arbitrary<GenScenario> = fc
  .constantFrom(...Object.keys(architectures))
  .chain((arch) => {
    const fam = architectures[arch].family;
    const op: fc.Arbitrary<GenOp> = fc.oneof(
      fc.constantFrom(...familyInsns[fam]).map((insn) => ({ insn })),
      fc.constantFrom(...familyMacros[fam]).map((macro) => ({ macro })),
    );
    const readerOp: fc.Arbitrary<GenOp> = fc
      .constantFrom(...familyInsns[fam].filter((i) => !i.endsWith(" f")))
      .map((insn) => ({ insn }));
    return fc.record({
      arch: fc.constant(arch),
      lines: fc.integer({ min: 1, max: 2 }),
      initial: fc.constantFrom<"old" | "trap">("old", "trap"),
      unmapped: fc.boolean(),
      writer: fc.array(op, { maxLength: 3 }),
      readers: fc.array(fc.array(readerOp, { maxLength: 2 }), { minLength: 1, maxLength: 2 }),
      interrupts: fc.integer({ min: 0, max: 1 }),
    });
  });

export function buildGen(g: GenScenario): ScenarioSpec {
  const b = scenario("gen", g.arch)
    .data({ flag: 0 })
    .code("f", { lines: g.lines, versions: ["old", "new"], initial: g.initial });
  if (g.unmapped) b.page("f", "none");
  b.cpu((p) => {
    p.text_write("f", "new");
    for (const o of g.writer) apply(p, o);
    if (g.unmapped) p.set_pte("f", "RX");
    p.smp_store_release("flag", 1);
  });
  g.readers.forEach((ops, i) =>
    b.cpu((p) => {
      p.smp_cond_load_acquire("flag", 1);
      for (const o of ops) apply(p, o);
      p.call("r0", "f");
      if (i === 0 && g.interrupts) p.interrupts(g.interrupts);
    }),
  );
  return b.build();
}

/** Outcome classes other than "new" reached by any CPU. */
export function badClasses(outcomes: { values: Record<string, string> }[]): Set<string> {
  const bad = new Set<string>();
  for (const o of outcomes)
    for (const [k, v] of Object.entries(o.values))
      if (/^\d+:/.test(k) && v !== "new") bad.add(`${k}=${v}`);
  return bad;
}
