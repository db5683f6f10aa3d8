// %% [markdown]
// # A7 — FRED could make interrupts non-serializing
//
// > "FRED could make interrupts non-serializing. I sincerely hope that FRED doesn't cause this
// > all to fall apart."
// >
// > — Andy Lutomirski, 2023-06-20
//
// **Scenario.** A6's BPF path on x86-64 with legacy IDT delivery and with FRED (event delivery
// and ERETS/ERETU not treated as serialising by the model; `lib/arch/x86-64-fred.ts`): CPU0
// copies the program into a ROX chunk with `text_poke_copy()` and publishes it; CPU1 takes an
// interrupt between seeing the pointer and running the program — the interrupt that, per Andy,
// saved the IDT case. Also acceptance scenario S6 (`tests/scenarios/S6.*.litmus`), and what still works
// under FRED: an explicit `sync_core()` on CPU1, or `text_poke_sync()` on CPU0.

// %% tags=["parameters"]
let arches = "x86-64,x86-64+fred";
let cpus = 2;
let seed = 1; // unused (exhaustive exploration)

// %% [include] _helpers.ts

// %%
import { publishAndCall, explore, loadScenario } from "execmem-lab";

const FIXES = ["interrupt in between", "nothing", "sync_core() on CPU1", "text_poke_sync() on CPU0"] as const;
type Fix = (typeof FIXES)[number];
function a7(a: string, held: "trap" | "old", fix: Fix) {
  return publishAndCall(`A7 ${a} ${held} ${fix}`, a, {
    cpus,
    flag: "prog",
    initial: held,
    publish: (p) => {
      p.text_write("f", "new", "poke"); // text_poke_copy
      p.mov_cr3(); // unuse_temporary_mm
      if (fix === "text_poke_sync() on CPU0") p.text_poke_sync();
    },
    beforeCall: (p) => {
      if (fix === "interrupt in between") p.interrupt();
      if (fix === "sync_core() on CPU1") p.sync_core();
    },
  })
    .exists("1:r0!=new")
    .build();
}
const a7arches = arches.split(",").map((s) => s.trim()).filter(Boolean);
const a7runs = a7arches.flatMap((a) =>
  (["trap", "old"] as const).flatMap((held) => FIXES.map((fix) => ({ arch: a, held: held, fix: fix, r: explore(a7(a, held, fix)) }))),
);
const s6 = ["S6.idt", "S6.fred"].map((n) => explore(loadScenario(`../tests/scenarios/${n}.litmus`)));
table(
  [
    ...a7runs.map((x) => ({ arch: x.arch, "chunk held": x.held, "between publish and run": x.fix, ...ranColumns(x.r) })),
    ...s6.map((r) => ({ arch: r.arch, "chunk held": "old", "between publish and run": `${r.scenario} (tests/scenarios)`, ...ranColumns(r) })),
  ],
  "IDT against FRED",
);

// %%
import { verdictOf, verdictTable } from "execmem-lab";
verdictTable(
  a7runs.map((x) =>
    verdictOf(x.r, {
      arch: x.arch,
      mitigations: x.fix === "nothing" ? [] : [x.fix],
      situation: x.held === "trap" ? "fresh chunk" : "reused chunk",
      reg: "1:r0",
    }),
  ),
  { title: "What makes CPU1 run the new program, IDT vs FRED" },
);

// %%
import { witnessFigure, display } from "execmem-lab";
const a7bad = a7runs.find((x) => x.arch.includes("fred") && x.fix === "interrupt in between" && badOf(x.r).length);
const a7w = a7bad ? shortest(a7bad.r, (v) => v === "stale") ?? badWitness(a7bad.r) : undefined;
if (a7w) {
  display(stepsTable(a7w.witness, `${a7bad!.r.scenario}: witness of ${a7w.key} (the interrupt is taken, yet the old code runs)`));
  display(witnessFigure(a7w, { versions: ["old", "new"] }));
} else console.log("the interrupt still saves CPU1 under every variant run");

// %% [markdown]
// ## Conclusion (computed)

// %%
const a7by = (a: string, f: Fix) => [...new Set(a7runs.filter((x) => x.arch === a && x.fix === f).flatMap((x) => badOf(x.r)))];
const fredArch = a7arches.find((a) => a.includes("fred"));
const idtArch = a7arches.find((a) => !a.includes("fred"));
md(
  a7arches.map((a) => `**${a}**: ` + FIXES.map((f) => `${f} → ${a7by(a, f).join("/") || "only new"}`).join("; ")).join("\n\n") +
    (fredArch && idtArch
      ? `\n\nAndy's worry is **${a7by(idtArch, "interrupt in between").length === 0 && a7by(fredArch, "interrupt in between").length > 0 ? "supported" : "not supported"}** by the model: ` +
        `the interrupt that makes the IDT case safe ${a7by(fredArch, "interrupt in between").length ? "no longer does under FRED" : "still does under FRED"}; ` +
        `explicit synchronisation (${FIXES.slice(2).filter((f) => !a7by(fredArch, f).length).join(", ") || "none of the fixes run"}) still works.`
      : ""),
);

// %%
for (const x of a7runs) if (!x.r.stats.complete) throw new Error(`${x.r.scenario}: incomplete`);
if (idtArch && a7by(idtArch, "interrupt in between").length) throw new Error("A7: the IDT interrupt does not serialise");
if (fredArch && !a7by(fredArch, "interrupt in between").length) throw new Error("A7: under FRED the interrupt still serialises");
if (fredArch) for (const f of FIXES.slice(2) as Fix[]) if (a7by(fredArch, f).length) throw new Error(`A7: ${f} fails under FRED`);
if (s6.some((r) => r.matchesExpectation !== true)) throw new Error("A7: S6 disagrees with its Result line");
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A7",
  claim: "FRED could make interrupts non-serializing, breaking the A6 argument",
  finding: a7arches.map((a) => `${a}: interrupt in between → ${a7by(a, "interrupt in between").join("/") || "safe"}`).join("; ") +
    (fredArch && idtArch ? ` — ${a7by(idtArch, "interrupt in between").length === 0 && a7by(fredArch, "interrupt in between").length > 0 ? "supported" : "refuted"}; sync_core()/text_poke_sync() ${FIXES.slice(2).every((f) => !a7by(fredArch, f as Fix).length) ? "still suffice" : "fail"}` : ""),
});
