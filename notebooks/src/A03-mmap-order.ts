// %% [markdown]
// # A3 — mmap() order: populate, then map; no cross-CPU serialisation on x86
//
// > "the only possible way userspace can screw it up (for a read-only mapping of read-only
// > text, anyway) is to jump to the mapping too early, in which case userspace gets a page
// > fault. Incoherence is impossible, and no one needs to \"serialize\" (in the SDM sense)."
// >
// > — Andy Lutomirski, 2023-06-17
//
// **Scenario** (acceptance scenario S4, docs/model.md). The page is not mapped. CPU0 writes the text through the direct
// map, installs the RX PTE, and store-releases a flag; CPU1 load-acquires the flag and jumps —
// nobody serialises. A second scenario lets CPU1 jump **without** waiting for the flag (too
// early). The claim is about x86; the other architectures are run for contrast (Andy: "more
// cache management is needed on the kernel's end"), and x86-64 with FRED checks whether the
// fault's return being serialising is what makes the retry safe.
//
// Andy speaks of a **user** mapping: a fetch fault there goes through `handle_mm_fault()`, which
// finds the PTE present and returns, and the fetch is retried. The page is declared a user page
// (`page(..., { user: true })`); the too-early jump declares its fault handled (it is the page
// fault Andy predicts, not a failure). For contrast the same order on **kernel text** (acceptance scenario
// S4): there the fault CPU1 fetched ahead is a not-present fault, which
// `arch/x86/mm/fault.c` `spurious_kernel_fault()` does not take for spurious — an oops.

// %% tags=["parameters"]
let arch = "x86-64";
let contrast = "x86-64+fred,arm64,riscv64";
let cpus = 2; // CPU0 maps, CPUs 1..cpus-1 jump
let seed = 1; // unused (exhaustive exploration)

// %% [include] _helpers.ts

// %%
import { scenario, explore, loadScenario } from "execmem-lab";

function a3(a: string, waitForFlag: boolean, initial = "trap") {
  const b = scenario(`A3 ${waitForFlag ? "flag" : "too early"} ${a}`, a)
    .data({ flag: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: initial })
    .page("f", "none", undefined, { user: true })
    .handled(...(waitForFlag ? [] : (["fault"] as const)))
    .cpu((p) => {
      p.text_write("f", "new"); // populate through the direct map
      p.set_pte("f", "RX"); // install the final RX PTE
      p.smp_store_release("flag", 1);
    });
  for (let i = 1; i < cpus; i++)
    b.cpu((p) => {
      if (waitForFlag) p.smp_cond_load_acquire("flag", 1);
      p.call("r0", "f");
    });
  return b.exists("1:r0!=new").build();
}

const a3arches = [arch, ...contrast.split(",").map((s) => s.trim()).filter(Boolean)];
const a3runs = a3arches.flatMap((a) =>
  [true, false].map((wait) => ({ arch: a, wait: wait, r: explore(a3(a, wait), { maxStates: 2_000_000 }) })),
);
const s4 = explore(loadScenario("../tests/scenarios/S4.litmus"));
table(
  [
    ...a3runs.map((x) => ({
      arch: x.arch,
      "CPU1": x.wait ? "waits for the flag" : "jumps too early",
      ...ranColumns(x.r),
      complete: x.r.stats.complete,
    })),
    { arch: s4.arch, CPU1: "waits (kernel text: tests/scenarios/S4.litmus)", ...ranColumns(s4), complete: s4.stats.complete },
  ],
  "Populate, map RX, publish: what the jumping CPU ran",
);

// %%
import { outcomeBars } from "execmem-lab";
outcomeBars(a3runs.filter((x) => x.wait).map((x) => x.r), { title: "Populate then map: final states per outcome class" });

// %% [markdown]
// ## Why the retry after the fault runs the new code
//
// The witness of the spurious fault on `arch`: CPU1's pipeline fetched ahead while the page was
// still unmapped, so the only thing it could hold for `f` is a *fault* — never instruction bytes.
// Delivering that fault consumes it and the retry fetches through the now-valid PTE.

// %%
import { witnessFigure, display } from "execmem-lab";
const main3 = a3runs.find((x) => x.arch === arch && x.wait)!;
const sf = shortest(main3.r, (v) => v.startsWith("spurious-fault"));
if (sf) {
  display(stepsTable(sf.witness, `${arch}: witness of ${sf.key}`));
  display(witnessFigure(sf, { versions: ["old", "new"], title: `${arch}: ${sf.key}` }));
} else console.log(`${arch}: no spurious fault reached`);

// %%
const fredRun = a3runs.find((x) => x.arch.includes("fred") && x.wait);
const fredSf = fredRun ? shortest(fredRun.r, (v) => v.startsWith("spurious-fault")) : undefined;
fredSf ? stepsTable(fredSf.witness, `${fredRun!.arch} (fault delivery and ERETS not serialising): witness of ${fredSf.key}`) : "no FRED run";

// %% [markdown]
// ## Conclusion (computed)

// %%
import { verdictOf } from "execmem-lab";
const a3main = main3.r;
const a3early = a3runs.find((x) => x.arch === arch && !x.wait)!.r;
const a3ok = verdictOf(a3main, { mitigations: [], reg: "1:r0" }).sufficient === true;
const earlyFault = valuesOf(a3early).includes("fault");
const s4oops = valuesOf(s4).includes("oops");
const a3fred = fredRun ? badOf(fredRun.r) : null;
md(
  `On **${arch}**, populate → map RX → release/acquire flag → jump reaches ${valuesOf(a3main).join(", ")}: ` +
    (a3ok ? `never stale, trap or torn — Andy's claim is **supported**` : `**${badOf(a3main).join(", ")}** — the claim is **refuted** by the model`) +
    `. Jumping too early reaches ${valuesOf(a3early).join(", ")}${earlyFault ? " (the page fault Andy predicts)" : ""}.\n\n` +
    (a3fred !== null
      ? `With FRED (fault delivery and return not serialising) the result is ${a3fred.length ? "bad: " + a3fred.join("/") : "the same"}: ` +
        (a3fred.length ? "the fault's serialising return is what saves the retry." : "in the model what saves the retry is not that the fault's return serialises but that an unmapped VA can only put a fault, never instruction bytes, into the pipeline, and delivering that fault consumes it.")
      : "") +
    `\n\nOther architectures without cache maintenance: ` +
    a3runs.filter((x) => x.wait && x.arch !== arch).map((x) => `${x.arch}: ${badOf(x.r).join("/") || "only new"}`).join("; ") +
    ` — there the order alone is not enough (A4 adds the per-arch synchronisation).` +
    `\n\nOn **kernel text** (S4) the same order runs ${valuesOf(s4).join(", ")}: ` +
    (s4oops
      ? "the fault CPU1 fetched while the page was not present is delivered after the PTE is valid, and x86's fault.c oopses on a not-present kernel fault instead of retrying it — the claim holds for user mappings only."
      : "no oops."),
);

// %%
if (!a3main.stats.complete) throw new Error("A3: exploration incomplete");
if (badOf(a3main).length) throw new Error(`A3: ${arch} reached ${badOf(a3main)}`);
if (!valuesOf(a3main).includes("new")) throw new Error("A3: new code never ran");
if (!earlyFault) throw new Error("A3: jumping too early never faulted");
if (s4.matchesExpectation !== true) throw new Error("A3: S4 disagrees with its Result: line");
if (!s4oops || badOf(s4).join() !== "oops") throw new Error(`A3: kernel text S4 reached ${badOf(s4)}, expected an oops only`);
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "A3",
  claim: "mmap order (populate, then map RX) needs no cross-CPU serialisation on x86; only a too-early jump faults",
  finding:
    `${a3ok ? "supported" : "refuted"} on ${arch} for user mappings: ran ${valuesOf(a3main).join("/")}, too early ${valuesOf(a3early).join("/")}; ` +
    `kernel text (S4) ${badOf(s4).join("/") || "ok"}; ` +
    a3runs.filter((x) => x.wait && x.arch !== arch).map((x) => `${x.arch} ${badOf(x.r).join("/") || "ok"}`).join(", ") +
    (a3runs.some((x) => x.wait && badOf(x.r).length) ? " (depends on arch)" : ""),
});
