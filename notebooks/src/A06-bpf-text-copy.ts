// %% [markdown]
// # A6 — `bpf_arch_text_copy()` without `text_poke_sync()`
//
// > "one thing that I clearly do not understand is why *today* it is ok for users of
// > bpf_arch_text_copy() not to call text_poke_sync(). Am I missing something?"
// >
// > — Nadav Amit, 2023-06-19
//
// Andy's answer (06-20): "I suspect the current code is wrong. But it's only wrong across CPUs,
// because bpf_arch_text_copy goes through text_poke_copy, which calls unuse_temporary_mm(), which
// is serializing. […] (Context switches and interrupts are serializing.)"
//
// **Scenario.** A `bpf_prog_pack` chunk is already mapped ROX and holds the pack's illegal-
// instruction fill (`trap`) — or, on reuse, a freed program (`old`). CPU0 copies the JITed image
// in with `text_poke_copy()` (a write through the temporary mm, then the MOV CR3 back, which
// serialises CPU0 only; on arm64 `bpf_arch_text_copy()` goes through `flush_icache_range()`,
// which ends with `kick_all_cpus_sync()`), then publishes the program pointer with a
// store-release. CPU1 loads it with acquire and runs the program, after: nothing; an interrupt;
// a context switch (MOV CR3; ISB on arm64); or with an interrupt allowed at *any* point (not
// necessarily in between).

// %% tags=["parameters"]
let arches = "x86-64,arm64";
let cpus = 2;
let seed = 1; // unused (exhaustive exploration)

// %% [include] _helpers.ts

// %%
import { publishAndCall, explore, archSequence, sameArch, type Program } from "execmem-lab";

// What CPU1 does between seeing the program and running it.
const BEFORE_RUN = {
  nothing: () => {},
  "interrupt in between": (p: Program) => p.interrupt(),
  "context switch in between": (p: Program, a: string) => p.steps(archSequence(a, "contextSwitch")),
  "interrupt anywhere": (p: Program) => p.interrupts(1),
};
type Cpu1 = keyof typeof BEFORE_RUN;
const CPU1_DOES = Object.keys(BEFORE_RUN) as Cpu1[];

// f is a chunk of a ROX pack; publishing `prog` makes the program reachable, calling f runs it.
function bpfCopy(a: string, held: "trap" | "old", cpu1: Cpu1) {
  return publishAndCall(`A6 ${a} ${held} ${cpu1}`, a, {
    cpus,
    flag: "prog",
    initial: held,
    // bpf_arch_text_copy() of each architecture (lib/arch): x86 text_poke_copy() serialises
    // this CPU only; arm64 aarch64_insn_copy() ends with flush_icache_range()
    publish: (p) => p.bpf_arch_text_copy("f", "new"),
    beforeCall: (p) => BEFORE_RUN[cpu1](p, a),
  })
    .exists("1:r0!=new")
    .build();
}

const a6arches = arches.split(",").map((s) => s.trim()).filter(Boolean);
const a6runs = a6arches.flatMap((a) =>
  (["trap", "old"] as const).flatMap((held) =>
    CPU1_DOES.map((c) => ({ arch: a, held: held, cpu1: c, r: explore(bpfCopy(a, held, c), { maxStates: 2_000_000 }) })),
  ),
);
table(
  a6runs.map((x) => ({ arch: x.arch, "chunk held": x.held, "CPU1 before running": x.cpu1, ...ranColumns(x.r) })),
  "bpf_arch_text_copy, then the program runs on another CPU",
);

// %%
import { verdictOf, verdictTable } from "execmem-lab";
const HELD = { trap: "fresh chunk (illegal-insn fill)", old: "reused chunk (freed program)" };
const a6cell = (x: (typeof a6runs)[number]) => ({ arch: x.arch, mitigations: x.cpu1 === "nothing" ? [] : [x.cpu1], situation: HELD[x.held], reg: "1:r0" });
verdictTable(
  a6runs.map((x) => verdictOf(x.r, a6cell(x))),
  { title: "Does CPU1 run the new program? (what CPU1 did before running it)" },
);

// %%
import { witnessFigure, display } from "execmem-lab";
const a6bad = a6runs.find((x) => sameArch(x.arch, "x86-64") && x.held === "old" && x.cpu1 === "nothing");
const a6w = a6bad ? shortest(a6bad.r, (v) => v === "stale") ?? badWitness(a6bad.r) : undefined;
if (a6w) {
  display(stepsTable(a6w.witness, `${a6bad!.r.scenario}: witness of ${a6w.key}`));
  display(witnessFigure(a6w, { versions: ["old", "new"] }));
} else console.log("no bad outcome on x86 without serialisation");

// %% [markdown]
// ## Conclusion (computed)

// %%
const a6by = (a: string, c: Cpu1) => [...new Set(a6runs.filter((x) => x.arch === a && x.cpu1 === c).flatMap((x) => badOf(x.r)))];
md(
  a6arches
    .map(
      (a) =>
        `**${a}**: ` +
        CPU1_DOES.map((c) => `${c} → ${a6by(a, c).join("/") || "only new"}`).join("; "),
    )
    .join("\n\n") +
    `\n\nNadav's suspicion and Andy's answer are **${a6arches.some((a) => sameArch(a, "x86-64") && a6by(a, "nothing").length) ? "supported" : "not supported"}** on x86: ` +
    `without text_poke_sync() the running CPU can execute the fill or the freed program unless it serialised in between ` +
    `(an interrupt or context switch in between ${a6arches.filter((a) => sameArch(a, "x86-64")).every((a) => !a6by(a, "interrupt in between").length && !a6by(a, "context switch in between").length) ? "fixes it" : "does not fix it"}; ` +
    `an interrupt at an arbitrary point ${a6arches.filter((a) => sameArch(a, "x86-64")).some((a) => a6by(a, "interrupt anywhere").length) ? "does not" : "does"}). ` +
    (a6arches.includes("arm64") ? `On arm64 the same path ${a6by("arm64", "nothing").length ? "also fails" : "is safe"}, because flush_icache_range() ends with kick_all_cpus_sync().` : ""),
);

// %%
for (const x of a6runs) if (!x.r.stats.complete) throw new Error(`${x.r.scenario}: incomplete`);
if (a6arches.includes("x86-64")) {
  if (!a6by("x86-64", "nothing").length) throw new Error("A6: x86 without serialisation is safe in the model");
  if (a6by("x86-64", "interrupt in between").length) throw new Error("A6: an IDT interrupt in between does not serialise");
}
if (a6arches.includes("arm64") && a6by("arm64", "nothing").length) throw new Error("A6: arm64 BPF path fails");
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A6",
  claim: "bpf_arch_text_copy() users skip text_poke_sync(): why is that OK today?",
  finding:
    a6arches
      .map((a) =>
        a6by(a, "nothing").length
          ? `${a}: ${a6by(a, "nothing").join("/")} reachable; ${CPU1_DOES.filter((c) => c !== "nothing" && !a6by(a, c).length).join(", ") || "nothing run"} on CPU1 makes it safe`
          : `${a}: only new code`,
      )
      .join("; ") +
    ` — ${a6arches.some((a) => a6by(a, "nothing").length) && a6arches.some((a) => !a6by(a, "nothing").length) ? "depends on arch" : a6arches.some((a) => a6by(a, "nothing").length) ? "not OK" : "OK"}`,
});
