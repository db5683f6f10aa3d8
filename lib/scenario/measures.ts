/**
 * Song Liu's four measures (execmem thread, 2023-06-26) as scenario parameters:
 *   1) invalidate unused parts of the huge ROX pages (trap fill, and again on free);
 *   2) do not put two JIT users in the same cache line;
 *   3) explicit cache maintenance;
 *   4) context-synchronisation events (on every CPU, by IPI).
 * A scenario is built for every subset, architecture variant and situation; whether a subset
 * is sufficient is what the explorer finds, never written here.
 */
import { archSequence } from "../arch";
import { scenario } from "./builder";
import type { ScenarioSpec } from "./spec";

export type Measure = 1 | 2 | 3 | 4;
export type Situation = "fresh" | "reuse" | "neighbour";
export const SITUATIONS: Situation[] = ["fresh", "reuse", "neighbour"];
export const MEASURE_NAMES: Record<Measure, string> = {
  1: "trap-fill unused and freed text",
  2: "one JIT user per cache line",
  3: "explicit cache maintenance",
  4: "context synchronisation on every CPU",
};
export const SWEEP_ARCHES = ["x86-64", "x86-64+fred", "arm64", "arm64+idc+dic", "riscv64"];

/** All 16 subsets of the four measures, as sorted arrays. */
export function measureSubsets(): Measure[][] {
  const out: Measure[][] = [];
  for (let m = 0; m < 16; m++)
    out.push(([1, 2, 3, 4] as Measure[]).filter((x) => m & (1 << (x - 1))));
  return out;
}

/**
 * The scenario of Song's four measures (A11) on `arch` with the measures in `subset` (1-4) taken,
 * in `situation` (a fresh page, a reused one, or a neighbour's code on the same page).
 */
export function measuresScenario(
  arch: string,
  subset: readonly Measure[],
  situation: Situation,
): ScenarioSpec {
  const has = (m: Measure) => subset.includes(m);
  const name = `A11 ${arch} {${subset.join(",")}} ${situation}`;
  const b = scenario(name, arch).data({ flag: 0 });
  // Without measure 1 a fresh page holds whatever was there ("junk"); reuse finds the old program.
  const before = situation === "reuse" ? "old" : has(1) ? "trap" : "junk";
  // neighbour: g, another JIT user's live code, lies just before f; without measure 2 its line
  // is also f's first line, so a fetch of g brings f's bytes into the pipeline with it.
  if (situation === "neighbour")
    b.code("g", { lines: 1, versions: ["old", "new"], initial: "old", page: "jit" });
  b.code("f", {
    lines: 2,
    versions: ["junk", "old", "new"],
    initial: before,
    page: "jit",
    ...(situation === "neighbour" && !has(2) ? { sharesLineWith: "g" } : {}),
  });
  b.cpu((p) => {
    if (situation === "reuse" && has(1)) p.text_write("f", "trap", "poke"); // invalidated on free
    p.text_write("f", "new", "poke");
    if (situation === "neighbour") p.text_write("g", "new", "poke");
    // measure 3: arch/arm64/mm/cache.S caches_clean_inval_pou, riscv local_flush_icache_all
    if (has(3)) {
      p.steps(archSequence(arch, "cacheMaintenance"), "f");
      if (situation === "neighbour") p.steps(archSequence(arch, "cacheMaintenance"), "g");
    }
    // measure 4: text_poke_sync(), kick_all_cpus_sync(), flush_icache_all()
    if (has(4)) p.steps(archSequence(arch, "syncOtherCpus"));
    p.smp_store_release("flag", 1);
  });
  b.cpu((p) => {
    if (situation === "reuse") p.call("r1", "f");
    if (situation === "neighbour") p.call("r1", "g");
    p.smp_cond_load_acquire("flag", 1);
    p.call("r0", "f");
    // f is new to CPU1: no branch of CPU1 has targeted it before the flag, so only g, which it
    // runs, is a plausible speculative target (docs/model.md §Fetch pipeline).
    if (situation === "neighbour") p.speculate("g");
  });
  return b.notExists("1:r0!=new").build();
}
