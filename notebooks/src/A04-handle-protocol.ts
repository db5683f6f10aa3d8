// %% [markdown]
// # A4 — The handle protocol: `jit_text_alloc` / `jit_text_write` / `jit_text_map`
//
// > "jit_text_alloc() -> returns a handle and an executable virtual address, but does *not* map
// > it there / jit_text_write() -> write to that handle / jit_text_map() -> map it and
// > synchronize if needed (no sync needed on x86, I think)"
// >
// > — Andy Lutomirski, 2023-06-17
//
// and, 06-20: "the virtual address in question was not readable or executable before this, and
// all CPUs have serialized since the last time it was executable."
//
// **Scenario.** `jit_text_alloc()` returns an address that is not mapped; `jit_text_write()`
// writes the frame through the direct map; `jit_text_map()` does some synchronisation and
// installs the RX PTE; the writer store-releases a flag and CPU1 load-acquires it and jumps.
// Instead of assuming what `jit_text_map()` must do, the notebook tries candidate
// synchronisations from cheapest to strongest on each architecture and reports the first that
// the explorer finds sufficient:
//
// | candidate | x86-64 | arm64 | riscv64 |
// |---|---|---|---|
// | none | PTE write | PTE write | PTE write |
// | barrier | `smp_wmb()` before the PTE | `smp_wmb()` (DMB ISHST) | `smp_wmb()` (fence w,w) |
// | maintenance | barrier + nothing (coherent) | DC CVAU, DSB ISH, IC IVAU, DSB ISH before the PTE | `fence.i` (local) + barrier |
// | maintenance + all CPUs | + `text_poke_sync()` after the PTE | + `kick_all_cpus_sync()` | + `flush_icache_all()` (remote fence.i) |
//
// A fault CPU1 fetched ahead while the address was not mapped counts as bad: on kernel text
// Linux retries only the faults its fault.c takes for spurious (x86: permission faults on a
// present PTE; arm64: none for instruction fetches; riscv64: new_vmalloc_check), and the
// others are an oops.
//
// Then the precondition: the same VA **reused** after `jit_free()` while CPU1 ran the previous
// program there and has not serialised since — and the fix of the precondition (every CPU
// synchronised after the unmap, before the VA is handed out again).

// %% tags=["parameters"]
let arches = "x86-64,x86-64+fred,arm64,arm64+idc+dic,riscv64";
let cpus = 2; // CPU0 allocates, writes and maps; CPUs 1..cpus-1 jump
let seed = 1; // unused (exhaustive exploration)

// %% [include] _helpers.ts

// %%
import { scenario, explore, archSequence, getArch, progress, display, sameArch, byArch, verdictOf, type Program } from "execmem-lab";

const CANDIDATES = ["none", "barrier", "maintenance", "maintenance + all CPUs"] as const;
type Candidate = (typeof CANDIDATES)[number];

/** text_poke_sync(), kick_all_cpus_sync() or flush_icache_all(): each architecture's (lib/arch). */
function syncAllCpus(p: Program, a: string) {
  p.steps(archSequence(a, "syncOtherCpus"));
}

/** Whether the architecture's cache maintenance ends with a barrier that orders the PTE write after the text (arm64 DSB ISH). */
function maintenanceOrders(a: string): boolean {
  const last = archSequence(a, "cacheMaintenance").at(-1);
  return !!last && "insn" in last && ["dsb", "full-barrier"].includes(getArch(a).instructions[last.insn].effect);
}

/** jit_text_map() with a candidate synchronisation. */
function jitTextMap(p: Program, a: string, c: Candidate) {
  if (c !== "none") {
    if (c !== "barrier") p.steps(archSequence(a, "cacheMaintenance"), "f");
    if (c === "barrier" || !maintenanceOrders(a)) p.smp_wmb();
  }
  p.set_pte("f", "RX");
  if (c === "maintenance + all CPUs") syncAllCpus(p, a);
}

/**
 * reuse: the VA ran the previous program on CPU1. free: how jit_free() unmapped it — "no
 * shootdown" (PTE cleared, no IPI), "vfree" (PTE cleared + flush_tlb_kernel_range, as vfree with
 * VM_FLUSH_RESET_PERMS does), "vfree + sync" (and every CPU synchronised).
 */
type Free = "no shootdown" | "vfree" | "vfree + sync";
function a4(a: string, c: Candidate, reuse: boolean, free: Free = "vfree") {
  const b = scenario(`A4 ${a} ${c}${reuse ? ` reuse, ${free}` : ""}`, a)
    .data({ flag: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: reuse ? "old" : "trap" })
    .page("f", reuse ? "RX" : "none");
  b.cpu((p) => {
    if (reuse) {
      p.set_pte("f", "none"); // jit_free(): unmap the previous program
      if (free !== "no shootdown") p.flush_tlb_kernel_range("f");
      if (free === "vfree + sync") syncAllCpus(p, a);
    }
    p.text_write("f", "new"); // jit_text_write(): through the direct map
    jitTextMap(p, a, c);
    p.smp_store_release("flag", 1);
  });
  for (let i = 1; i < cpus; i++)
    b.cpu((p) => {
      if (reuse) p.call("r1", "f"); // CPU1 ran the previous program at this VA
      p.smp_cond_load_acquire("flag", 1);
      p.call("r0", "f");
    });
  return b.exists("1:r0!=new").build();
}

const a4arches = arches.split(",").map((s) => s.trim()).filter(Boolean);
const bar4 = progress("A4 candidates", a4arches.length * CANDIDATES.length);
const a4fresh = a4arches.map((a) => ({
  arch: a,
  runs: CANDIDATES.map((c) => {
    const r = explore(a4(a, c, false), { maxStates: 2_000_000 });
    bar4.tick(1, `${a} ${c}`);
    return { c: c, r: r };
  }),
}));
bar4.finish();
const a4needed = a4fresh.map((x) => ({
  arch: x.arch,
  first: x.runs.find((y) => verdictOf(y.r, { mitigations: [y.c], reg: "1:r0" }).sufficient)?.c ?? "none of the candidates",
}));
table(
  a4fresh.flatMap((x) =>
    x.runs.map((y) => ({
      arch: x.arch,
      "jit_text_map sync": y.c,
      ...ranColumns(y.r),
      "first sufficient": a4needed.find((n) => n.arch === x.arch)!.first === y.c ? "◀" : "",
    })),
  ),
  "Fresh VA: what jit_text_map() must do, found by the explorer",
);

// %%
import { verdictTable, type VerdictCell } from "execmem-lab";
const cells4: VerdictCell[] = a4fresh.flatMap((x) =>
  x.runs.map((y) => verdictOf(y.r, { arch: x.arch, mitigations: y.c === "none" ? [] : [y.c], reg: "1:r0" })),
);
verdictTable(cells4, { mitigations: [...CANDIDATES.slice(1)], title: "jit_text_map() synchronisation per architecture (fresh VA)" });

// %% [markdown]
// ## The precondition: VA reuse
//
// `jit_text_map()` on each architecture with the cheapest synchronisation that runs no wrong
// code on a fresh VA (stale, trap, torn; the fault path is the separate question above), but on a VA that
// held the previous program, which CPU1 executed. `jit_free()` unmaps it three ways: without a
// TLB shootdown, with `flush_tlb_kernel_range()` (what `vfree()` of a VM_FLUSH_RESET_PERMS area
// does — on some architectures an IPI, which may itself synchronise the other CPUs), and with
// an explicit synchronisation of every CPU as well.

// %%
const wrongCode = (r: (typeof a4fresh)[number]["runs"][number]["r"]) => badOf(r).filter((k) => k !== "oops" && k !== "fault");
const a4reuse = a4fresh.map((x) => {
  const n = { arch: x.arch };
  const c = x.runs.find((y) => wrongCode(y.r).length === 0 && y.r.stats.complete)?.c ?? "maintenance + all CPUs";
  return {
    arch: n.arch,
    c: c,
    violated: explore(a4(n.arch, c, true, "no shootdown"), { maxStates: 2_000_000 }),
    vfree: explore(a4(n.arch, c, true, "vfree"), { maxStates: 2_000_000 }),
    fixed: explore(a4(n.arch, c, true, "vfree + sync"), { maxStates: 2_000_000 }),
  };
});
table(
  a4reuse.flatMap((x) => [
    { arch: x.arch, "jit_text_map sync": x.c, "jit_free": "PTE cleared, no shootdown", ...ranColumns(x.violated) },
    { arch: x.arch, "jit_text_map sync": x.c, "jit_free": "vfree: PTE cleared + flush_tlb_kernel_range", ...ranColumns(x.vfree) },
    { arch: x.arch, "jit_text_map sync": x.c, "jit_free": "vfree + every CPU synchronised", ...ranColumns(x.fixed) },
  ]),
  "Reused VA",
);

// %%
import { witnessFigure } from "execmem-lab";
const reuseBad = a4reuse.find((x) => sameArch(x.arch, "x86-64") && badOf(x.violated).length) ?? a4reuse.find((x) => badOf(x.violated).length);
const reuseW = reuseBad ? shortest(reuseBad.violated, (v) => v.includes("stale")) ?? badWitness(reuseBad.violated) : undefined;
if (reuseW) {
  display(stepsTable(reuseW.witness, `${reuseBad!.arch}, precondition violated: witness of ${reuseW.key}`));
  display(witnessFigure(reuseW, { versions: ["old", "new"] }));
} else console.log("no stale outcome on reuse");

// %% [markdown]
// ## Conclusion (computed)

// %%
const x86need = byArch(a4needed)["x86-64"]?.[0];
const x86none = byArch(a4fresh)["x86-64"]?.[0].runs.find((y) => y.c === "none");
md(
  `What \`jit_text_map()\` must do, per the explorer: ` +
    a4needed.map((n) => `**${n.arch}**: ${n.first}`).join("; ") +
    `.\n\n` +
    (x86need
      ? `Andy's "no sync needed on x86, I think" is **${x86need.first === "none" ? "supported" : "refuted"}** for a fresh VA` +
        (x86none && badOf(x86none.r).length
          ? `: without synchronisation CPU1 reaches ${badOf(x86none.r).join("/")} — its pipeline may hold the not-present fault it fetched before the PTE was written, and arch/x86/mm/fault.c does not retry a not-present kernel fault. What removes it is ${x86need.first}.`
          : ".")
      : "") +
    ` On a reused VA without a TLB shootdown (CPU1 not synchronised since it ran the old program): ` +
    a4reuse.map((x) => `${x.arch} ${badOf(x.violated).join("/") || "no bad outcome"}`).join("; ") +
    `; with vfree's TLB flush: ` +
    a4reuse.map((x) => `${x.arch} ${badOf(x.vfree).join("/") || "only new"}`).join("; ") +
    `; with every CPU synchronised after the unmap: ` +
    a4reuse.map((x) => `${x.arch} ${badOf(x.fixed).join("/") || "only new"}`).join("; ") +
    `. The precondition "all CPUs have serialized since the last time it was executable" is ${a4reuse.some((x) => wrongCode(x.violated).length) && a4reuse.every((x) => !wrongCode(x.fixed).length) ? "**necessary** and, with it, sufficient against wrong code" : "not what decides the outcome in the model"}` +
    (a4reuse.some((x) => badOf(x.fixed).includes("oops")) ? ` (the oops of the fault fetched ahead remains where jit_text_map() does not synchronise the other CPUs: ${a4reuse.filter((x) => badOf(x.fixed).includes("oops")).map((x) => x.arch).join(", ")})` : "") +
    ".",
);

// %%
for (const x of a4fresh) for (const y of x.runs) if (!y.r.stats.complete) throw new Error(`${y.r.scenario}: incomplete`);
for (const n of a4needed) if (!(CANDIDATES as readonly string[]).includes(n.first)) throw new Error(`A4: no candidate suffices on ${n.arch}`);
if (x86none && badOf(x86none.r).join() !== "oops") throw new Error(`A4: x86 without sync reached ${badOf(x86none.r)}, expected an oops only`);
for (const x of a4reuse) {
  if (wrongCode(x.fixed).length) throw new Error(`A4: ${x.arch} still runs wrong code on reuse with the precondition: ${wrongCode(x.fixed)}`);
}
if (!a4reuse.some((x) => badOf(x.violated).includes("stale"))) throw new Error("A4: violating the precondition never ran stale code");
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A4",
  claim: "handle protocol: jit_text_map() maps and syncs if needed, no sync on x86; VA reuse needs all CPUs serialised",
  finding:
    `${new Set(a4needed.map((n) => n.first)).size > 1 ? "depends on arch" : "same on every arch"}: ` +
    a4needed.map((n) => `${n.arch} ${n.first}`).join(", ") +
    `; reuse without sync: ${a4reuse.map((x) => `${x.arch} ${badOf(x.violated).join("/") || "ok"}`).join(", ")}`,
});
