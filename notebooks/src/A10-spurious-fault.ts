// %% [markdown]
// # A10 — Maintenance before the mapping, and the spurious fault after it
//
// > "After the copy we perform and complete all the data + instruction cache maintenance
// > *before* marking the mapping as executable." … "Even *after* the mapping is marked
// > executable, a thread could take a spurious fault on an instruction fetch for the new
// > instructions." … "luckily out exception entry/exit is architecturally guarnateed to provide
// > that (unless we explicitly opt out via a control bit)."
// >
// > — Mark Rutland, 2023-06-26
//
// **Scenarios** on arm64 (SCTLR_EL1.EIS=EOS=1, what Linux sets) and arm64+exs (FEAT_ExS with
// EIS=EOS=0: exception entry/return are not context-synchronising):
//
// 1. Acceptance scenario S11 (docs/model.md): the page is unmapped; CPU0 writes, does DC CVAU/DSB/IC IVAU/DSB, then makes
//    the PTE valid and publishes; CPU1 acquires and jumps. Is the spurious fault reachable, and
//    what runs after it?
// 2. The same maintenance done *after* the PTE is valid (Mark's order reversed).
// 3. The fault as a context-synchronisation event: CPU0 also rewrites `g` (already mapped, with
//    maintenance, no ISB on CPU1). CPU1 jumps to `f` and then calls `g`. With EIS/EOS=1 a
//    spurious fault on `f` synchronises CPU1 so `g` cannot be stale afterwards; with EIS/EOS=0 it
//    does not.
//
// Whether the kernel takes the fault for spurious is its fault handler's decision, not the
// CPU's: `arch/arm64/mm/fault.c` `is_spurious_el1_translation_fault()` accepts EL1 *data* aborts
// only, so on kernel text an instruction abort is an oops; on a user mapping
// `handle_mm_fault()` finds the PTE valid and the fetch is retried. Scenarios 1 and 3 are run
// on both (scenario 3 needs the retry, so it uses a user mapping).

// %% tags=["parameters"]
let arches = "arm64,arm64+exs";
let cpus = 2;
let seed = 1; // unused (exhaustive exploration)

// %% [include] _helpers.ts

// %%
import { scenario, explore, loadScenario } from "execmem-lab";

function a10(a: string, maintenanceFirst: boolean, user = false) {
  return scenario(`A10 ${a} maintenance ${maintenanceFirst ? "before" : "after"} the PTE${user ? " (user page)" : ""}`, a)
    .data({ flag: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: "old" })
    .page("f", "none", undefined, { user: user })
    .cpu((p) => {
      p.text_write("f", "new");
      if (maintenanceFirst) p.dc_cvau("f").dsb("ish").ic_ivau("f").dsb("ish");
      p.set_pte("f", "RX");
      if (!maintenanceFirst) p.dc_cvau("f").dsb("ish").ic_ivau("f").dsb("ish");
      p.smp_store_release("flag", 1);
    })
    .cpu((p) => {
      p.smp_cond_load_acquire("flag", 1);
      p.call("r0", "f");
    })
    .exists("1:r0!=new")
    .build();
}
function a10cse(a: string) {
  return scenario(`A10 fault as CSE ${a}`, a)
    .data({ flag: 0 })
    .code("f", { lines: 1, versions: ["old", "new"], initial: "old" })
    .page("f", "none", undefined, { user: true })
    .code("g", { lines: 1, versions: ["old", "new"], initial: "old" })
    .page("g", "RX", undefined, { user: true })
    .cpu((p) => {
      p.text_write("f", "new");
      p.text_write("g", "new");
      p.dc_cvau("f").dc_cvau("g").dsb("ish").ic_ivau("f").ic_ivau("g").dsb("ish");
      p.set_pte("f", "RX");
      p.smp_store_release("flag", 1);
    })
    .cpu((p) => {
      p.smp_cond_load_acquire("flag", 1);
      p.call("r0", "f");
      p.call("r1", "g");
    })
    .exists("1:r0=spurious-fault+new /\\ 1:r1=stale")
    .build();
}
const a10arches = arches.split(",").map((s) => s.trim()).filter(Boolean);
const a10runs = a10arches.map((a) => ({
  arch: a,
  before: explore(a10(a, true)),
  beforeUser: explore(a10(a, true, true)),
  after: explore(a10(a, false)),
  cse: explore(a10cse(a)),
}));
const s11 = explore(loadScenario("../tests/scenarios/S11.litmus"));
table(
  a10runs.flatMap((x) => [
    { arch: x.arch, scenario: "maintenance before the PTE (S11), kernel text", ...ranColumns(x.before) },
    { arch: x.arch, scenario: "maintenance before the PTE, user mapping", ...ranColumns(x.beforeUser) },
    { arch: x.arch, scenario: "maintenance after the PTE", ...ranColumns(x.after) },
    { arch: x.arch, scenario: "f faults spuriously, then g: is g stale? (user mapping)", "CPU1 ran": x.cse.outcomes.map((o) => `f ${o.values["1:r0"]} / g ${o.values["1:r1"]}`).join("; "), "bad outcomes": `${x.cse.condition}: ${x.cse.observation}`, states: x.cse.stats.states },
  ]).concat([{ arch: s11.arch, scenario: "tests/scenarios/S11.litmus", ...ranColumns(s11) }]),
  "Spurious faults on arm64",
);

// %%
import { witnessFigure, display, byArch } from "execmem-lab";
const sfw = shortest(a10runs[0].before, (v) => v.includes("oops"));
if (sfw) {
  display(stepsTable(sfw.witness, `${a10runs[0].arch}: witness of ${sfw.key} — the PTE is valid when CPU1 executes, yet it faults, and fault.c does not retry it`));
  display(witnessFigure(sfw, { versions: ["old", "new"] }));
}

// %%
const exsRun = a10runs.find((x) => x.arch.includes("exs"));
const exsW = exsRun ? exsRun.cse.outcomes.find((o) => o.satisfies) : undefined;
if (exsW) {
  display(stepsTable(exsW.witness, `${exsRun!.arch}: witness of ${exsW.key} — the fault's entry/return did not synchronise`));
  display(witnessFigure(exsW, { versions: ["old", "new"] }));
} else console.log("no stale g after a spurious fault on any variant run");

// %% [markdown]
// ## Conclusion (computed)

// %%
const a10base = byArch(a10runs)["arm64"]?.[0];
const a10userOk =
  !!a10base &&
  valuesOf(a10base.beforeUser).some((v) => v.startsWith("spurious-fault")) &&
  badOf(a10base.beforeUser).length === 0 &&
  a10base.cse.observation === "Never" &&
  (!exsRun || exsRun.cse.observation !== "Never");
md(
  a10runs
    .map(
      (x) =>
        `**${x.arch}**: maintenance before the PTE → ${valuesOf(x.before).join(", ")}` +
        ` on kernel text (the fault after the PTE is valid ${valuesOf(x.before).includes("oops") ? "**reachable, and an oops**" : "not reachable"}, bad: ${badOf(x.before).join("/") || "none"}), ` +
        `${valuesOf(x.beforeUser).join(", ")} on a user mapping (bad: ${badOf(x.beforeUser).join("/") || "none"}); ` +
        `after the PTE → bad: ${badOf(x.after).join("/") || "none"}; ` +
        `a spurious fault followed by stale code elsewhere: **${x.cse.observation === "Never" ? "never" : "reachable"}**.`,
    )
    .join("\n\n") +
    (a10base
      ? `\n\nMark's account is **${a10userOk ? "supported where the fault is retried" : "not supported"}**: ` +
        `the fault happens after the PTE is valid; on a user mapping its exception entry/return makes the retry run the new code, and opting out with EIS/EOS=0 ${exsRun ? (exsRun.cse.observation !== "Never" ? "lets stale state survive the fault" : "changes nothing in the model") : "was not run"}. ` +
        `On kernel text (module or JIT code) the same fault is ${valuesOf(a10base.before).includes("oops") ? "an **oops**: arch/arm64/mm/fault.c retries EL1 data aborts only, so a kernel JIT needs a context synchronisation on every CPU after the PTE (kick_all_cpus_sync()) or a fault handler that retries instruction aborts" : "not reached"}.`
      : ""),
);

// %%
if (a10base) {
  if (!valuesOf(a10base.beforeUser).some((v) => v.startsWith("spurious-fault"))) throw new Error("A10: no spurious fault on an arm64 user mapping");
  if (badOf(a10base.beforeUser).length) throw new Error(`A10: arm64 user mapping, maintenance first: ${badOf(a10base.beforeUser)}`);
  if (badOf(a10base.before).join() !== "oops") throw new Error(`A10: arm64 kernel text, maintenance first: ${badOf(a10base.before)}, expected an oops only`);
  if (a10base.cse.observation !== "Never") throw new Error("A10: the spurious fault did not synchronise on arm64");
}
if (exsRun && exsRun.cse.observation === "Never") throw new Error("A10: EIS/EOS=0 makes no difference");
if (s11.matchesExpectation !== true) throw new Error("A10: S11 disagrees with its Result line");
console.log("assertions hold");

// %% [markdown]
// ## riscv64: the spurious fault and Svvptc
//
// The same question on riscv64 (`tests/scenarios/riscv64-pte-invalid-to-valid.litmus`): CPU0
// writes the code, makes the page valid and publishes; CPU1 acquires, runs fence.i and calls.
// Without Svvptc the hart's TLB may keep the invalid translation until sfence.vma, so the call
// can fault although the PTE is valid — Linux takes it as spurious (arch/riscv/mm/fault.c
// vmalloc_fault(), the new_vmalloc check of arch/riscv/kernel/entry.S: flush the local TLB entry
// and return). With Svvptc a PTE made valid is seen by the walker: the same program never faults.

// %%
const rvPte10 = loadScenario("../tests/scenarios/riscv64-pte-invalid-to-valid.litmus");
const rvRuns10 = ["riscv64", "riscv64+svvptc"].map((a) => ({ arch: a, r: explore({ ...rvPte10, arch: a }) }));
table(
  rvRuns10.map((x) => ({ arch: x.arch, "CPU1 ran": valuesOf(x.r).join(", "), "spurious fault": valuesOf(x.r).some((v) => v.startsWith("spurious-fault")) ? "reachable" : "never", "bad outcomes": badOf(x.r).join(", ") || "none", states: x.r.stats.states })),
  "riscv64: a PTE made valid, with and without Svvptc",
);
const rvSf10 = shortest(rvRuns10[0].r, (v) => v.startsWith("spurious-fault"));
if (rvSf10) display(stepsTable(rvSf10.witness, "riscv64 without Svvptc: the TLB kept the invalid entry"));

// %%
if (!valuesOf(rvRuns10[0].r).some((v) => v.startsWith("spurious-fault"))) throw new Error("A10: no spurious fault on riscv64 without Svvptc");
if (valuesOf(rvRuns10[1].r).some((v) => v.startsWith("spurious-fault"))) throw new Error("A10: Svvptc changes nothing");
for (const x of rvRuns10) if (badOf(x.r).length) throw new Error(`A10: ${x.arch} bad outcomes ${badOf(x.r)}`);
console.log("riscv64 Svvptc assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A10",
  claim: "maintenance before mapping; a spurious fault may follow, and its exception entry/return resynchronises (unless EIS/EOS=0)",
  finding: a10runs
    .map((x) => `${x.arch}: kernel text ${valuesOf(x.before).join("/")}, user ${valuesOf(x.beforeUser).join("/")}, stale after the fault ${x.cse.observation === "Never" ? "never" : "reachable"}, maintenance after PTE ${badOf(x.after).join("/") || "ok"}`)
    .join("; ") + (a10userOk ? " — supported for user mappings; an oops on kernel text (fault.c)" : " — not supported"),
});
