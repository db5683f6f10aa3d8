// %% [markdown]
// # A9 — On arm64, trap fill alone is not enough
//
// > "That is in no way gauranteed for other architectures; on arm64 you need explicit cache
// > maintenance (with I-cache maintenance at the VA to be executed from) followed by
// > context-synchronization-events (e.g. via ISB instructions, or IPIs)."
// >
// > — Mark Rutland, 2023-06-26, on Mike Rapoport's ROX cache invalidated "by filling it with
// > breakpoint instructions"
//
// **Scenario.** A large page of the ROX cache that held a previous program is invalidated by
// filling it with BRK (through the text-poking alias), then `jit_update()` writes the new
// program there; CPU0 publishes it, CPU1 acquires the pointer and jumps. CPU0 may do
// `DC CVAU` + `DSB ISH` (clean to PoU), `DSB ISH` + `IC IVAU` + `DSB ISH` (invalidate at the VA), and
// CPU1 may execute a context-synchronisation event (`ISB`) before jumping. All 8 combinations
// of {DC CVAU, IC IVAU, ISB} run on each CTR_EL0 variant, so the notebook finds which steps are
// necessary where, instead of assuming it.

// %% tags=["parameters"]
let arches = "arm64,arm64+idc,arm64+dic,arm64+idc+dic";
let cpus = 2;
let seed = 1; // unused (exhaustive exploration)

// %% [include] _helpers.ts

// %%
import { scenario, explore, exploreMany } from "execmem-lab";

const STEPS9 = ["DC CVAU", "IC IVAU", "ISB on CPU1"] as const;
function subsets9(): string[][] {
  const out: string[][] = [];
  for (let m = 0; m < 8; m++) out.push(STEPS9.filter((_, i) => m & (1 << i)));
  return out;
}
function a9(a: string, steps: string[]) {
  const b = scenario(`A9 ${a} {${steps.join(", ")}}`, a)
    .data({ flag: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: "old" })
    .cpu((p) => {
      p.text_write("f", "trap", "poke"); // invalidate: fill with BRK
      p.text_write("f", "new", "poke"); // jit_update(): write the program
      if (steps.includes("DC CVAU")) p.dc_cvau("f").dsb("ish");
      // IC IVAU is preceded by a DSB, as caches_clean_inval_pou does (DSB ISHST when IDC=1).
      if (steps.includes("IC IVAU")) p.dsb("ish").ic_ivau("f").dsb("ish");
      p.smp_store_release("flag", 1);
    });
  for (let i = 1; i < cpus; i++)
    b.cpu((p) => {
      p.smp_cond_load_acquire("flag", 1);
      if (steps.includes("ISB on CPU1")) p.isb();
      p.call("r0", "f");
    });
  return b.exists("1:r0!=new").build();
}
const a9arches = arches.split(",").map((s) => s.trim()).filter(Boolean);
const a9specs = a9arches.flatMap((a) => subsets9().map((s) => ({ arch: a, steps: s, spec: a9(a, s) })));
const a9res = await exploreMany(a9specs.map((x) => x.spec), { maxStates: 2_000_000 });
const a9runs = a9specs.map((x, i) => ({ arch: x.arch, steps: x.steps, r: a9res[i] }));
table(
  a9runs.map((x) => ({
    arch: x.arch,
    steps: x.steps.join(" + ") || "trap fill only",
    ...ranColumns(x.r),
    complete: x.r.stats.complete,
  })),
  "Trap fill, jit_update, and which maintenance / synchronisation",
);

// %%
import { verdictOf, verdictTable } from "execmem-lab";
verdictTable(
  a9runs.map((x) => verdictOf(x.r, { arch: x.arch, mitigations: x.steps, reg: "1:r0" })),
  { mitigations: [...STEPS9], title: "Sufficient step sets per CTR_EL0 variant (hover: witness)" },
);

// %% [markdown]
// ## The two failures Mark names, as witnesses (arm64, IDC=0 DIC=0)

// %%
import { witnessFigure, display, byArch } from "execmem-lab";
const noIc = byArch(a9runs)["arm64"]?.find((x) => x.steps.join() === "DC CVAU,ISB on CPU1");
const noIsb = byArch(a9runs)["arm64"]?.find((x) => x.steps.join() === "DC CVAU,IC IVAU");
for (const [label, x] of [["without IC IVAU", noIc], ["without a context-synchronisation event", noIsb]] as const) {
  const w = x ? badWitness(x.r) : undefined;
  if (!w) { console.log(`${label}: no bad outcome`); continue; }
  display(stepsTable(w.witness, `${label}: witness of ${w.key}`));
  display(witnessFigure(w, { versions: ["old", "new"], title: `${label}: ${w.key}` }));
}

// %% [markdown]
// ## Conclusion (computed)

// %%
const a9ok = (a: string, s: string[]) => {
  const x = a9runs.find((y) => y.arch === a && y.steps.join() === s.join());
  return !!x && verdictOf(x.r, { mitigations: x.steps, reg: "1:r0" }).sufficient === true;
};
const a9minimal = a9arches.map((a) => {
  const suff = subsets9().filter((s) => a9ok(a, s));
  const minimal = suff.filter((s) => !suff.some((t) => t.length < s.length && t.every((z) => s.includes(z))));
  const necessary = STEPS9.filter((st) => suff.length > 0 && suff.every((s) => s.includes(st)));
  return { arch: a, minimal: minimal, necessary: necessary, trapOnly: a9ok(a, []) };
});
table(a9minimal.map((m) => ({ arch: m.arch, "trap fill alone sufficient": m.trapOnly ? "yes" : "no", "minimal sufficient sets": m.minimal.map((s) => s.join(" + ") || "nothing").join(" | ") || "none", "necessary steps": m.necessary.join(", ") || "none" })), "Computed from the 32 explorations");

// %%
const base9 = byArch(a9minimal)["arm64"]?.[0];
md(
  (base9
    ? `On **arm64** (IDC=0, DIC=0) trap fill alone is ${base9.trapOnly ? "**sufficient** — the model disagrees with Mark" : "**not** sufficient — Mark's claim is **supported**"}; ` +
      `the necessary steps are ${base9.necessary.join(", ") || "none"}` +
      `${base9.necessary.includes("IC IVAU") && base9.necessary.includes("ISB on CPU1") ? ", i.e. I-cache maintenance *and* a context-synchronisation event, only together" : ""}. `
    : "") +
    a9minimal.filter((m) => m !== base9).map((m) => `With **${m.arch}** the minimal sets are ${m.minimal.map((s) => s.join(" + ") || "nothing").join(" or ")}`).join("; ") +
    `. Steps that become unnecessary with the CTR_EL0 bits: ` +
    a9minimal.filter((m) => m !== base9).map((m) => `${m.arch}: ${STEPS9.filter((s) => base9?.necessary.includes(s) && !m.necessary.includes(s)).join(", ") || "none"}`).join("; ") + ".",
);

// %% [markdown]
// ## What runs without the maintenance: Arm ARM B2.2.5
//
// Without the maintenance, CPU1's fetch may still see the old or the new instruction. Unless
// both are among B, BL, NOP, BRK, SVC, HVC, SMC, ISB that is a concurrent modification, and what
// runs is CONSTRAINED UNPREDICTABLE — not only old or new. Acceptance scenario S7 (DSB, release/acquire,
// ISB, no DC/IC) with ordinary code, with a CMODX-safe pair (NOP → B), and with the maintenance:

// %%
function cmodx9(pair: "code" | "NOP -> B", maintenance: boolean) {
  return scenario(`A9 S7 ${pair}${maintenance ? " + maintenance" : ""}`, "arm64")
    .data({ flag: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: "old", ...(pair === "code" ? {} : { insn: { old: "NOP", new: "B" } }) })
    .cpu((p) => {
      p.text_write("f", "new");
      if (maintenance) p.dc_cvau("f").dsb("ish").ic_ivau("f");
      p.dsb("ish").smp_store_release("flag", 1);
    })
    .cpu((p) => p.smp_cond_load_acquire("flag", 1).isb().call("r0", "f"))
    .build();
}
const cmodxRuns9 = [
  { what: "ordinary code, no maintenance", r: explore(cmodx9("code", false)) },
  { what: "NOP → B (CMODX-safe), no maintenance", r: explore(cmodx9("NOP -> B", false)) },
  { what: "ordinary code, DC CVAU + IC IVAU", r: explore(cmodx9("code", true)) },
];
table(
  cmodxRuns9.map((x) => ({ scenario: x.what, "CPU1 ran": valuesOf(x.r).join(", "), states: x.r.stats.states })),
  "S7 on arm64: concurrent modification without maintenance",
);

// %%
for (const x of a9runs) if (!x.r.stats.complete) throw new Error(`${x.r.scenario}: incomplete`);
if (!valuesOf(cmodxRuns9[0].r).includes("unpredictable")) throw new Error("A9: S7 without maintenance never runs anything unpredictable");
if (valuesOf(cmodxRuns9[1].r).includes("unpredictable")) throw new Error("A9: a CMODX-safe pair ran something unpredictable");
if (valuesOf(cmodxRuns9[2].r).join() !== "new") throw new Error(`A9: with the maintenance CPU1 ran ${valuesOf(cmodxRuns9[2].r)}`);
if (base9) {
  if (base9.trapOnly) throw new Error("A9: trap fill alone is sufficient on arm64");
  if (!base9.necessary.includes("IC IVAU") || !base9.necessary.includes("ISB on CPU1")) throw new Error(`A9: arm64 necessary steps are ${base9.necessary}`);
}
const idcdic = byArch(a9minimal)["arm64+idc+dic"]?.[0];
if (idcdic && (idcdic.necessary.includes("IC IVAU") || idcdic.necessary.includes("DC CVAU"))) throw new Error("A9: IDC+DIC still need maintenance");
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A9",
  claim: "arm64: trap fill is not enough; I-cache maintenance at the VA and a context-synchronisation event are needed",
  finding:
    `${base9 && !base9.trapOnly ? "supported" : "refuted"}: ` +
    a9minimal.map((m) => `${m.arch} needs ${m.necessary.join("+") || "nothing"}`).join("; "),
});
