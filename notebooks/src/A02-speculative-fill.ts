// %% [markdown]
// # A2 — The executable mapping exists before the text: speculative fills
//
// > "With jit_text_alloc(), the executable mapping shows up before the text is populated, so
// > there is no atomic change from not-there to populated-and-executable. […] various
// > architectures (even x86!) may need serialization."
// >
// > — Andy Lutomirski, 2023-06-17 (repeated 06-19)
//
// **Scenario.** `jit_text_alloc()` hands out memory that is already mapped executable (here
// trap-filled, as `bpf_prog_pack` and the ROX caches do; and, second case, still holding a
// previous program). CPU0 writes the new program into it through the text-poking alias, then
// publishes a flag with a store-release. CPU1 (and every further CPU when `cpus` > 2) waits for
// the flag with a load-acquire and jumps — nobody serialises. The hardware may fetch `f`
// speculatively at any time since it is mapped executable and a plausible branch target.
//
// As a contrast, the same writer with mmap()'s order: the page is **not** mapped while it is
// written, and the RX PTE is installed before the flag (Andy's A3; here without anything else).

// %% tags=["parameters"]
let arches = "x86-64,arm64,riscv64";
let cpus = 2; // CPU0 writes, CPUs 1..cpus-1 jump
let seed = 1; // unused by exhaustive exploration; kept so every notebook takes the same -p set

// %% [include] _helpers.ts

// %%
import { publishAndCall, explore, type ScenarioBuilder } from "execmem-lab";

const archList = arches.split(",").map((a) => a.trim()).filter(Boolean);

/** initial: what the freshly handed-out memory holds; mappedFirst: jit_text_alloc (true) or mmap order (false). */
function a2(arch: string, initial: "trap" | "old", mappedFirst: boolean): ScenarioBuilder {
  // CPU1 jumps to f after the flag, with no serialisation.
  const b = publishAndCall(`A2 ${mappedFirst ? "mapped first" : "mapped after"} ${initial} ${arch}`, arch, {
    cpus,
    initial: initial,
    publish: (p) => {
      p.text_write("f", "new", "poke"); // jit_text_write / text_poke_copy
      if (!mappedFirst) p.set_pte("f", "RX"); // mmap order: populate, then map
    },
  });
  if (!mappedFirst) b.page("f", "none");
  return b.exists("1:r0!=new");
}

const a2runs = archList.flatMap((arch) =>
  (["trap", "old"] as const).flatMap((initial) =>
    [true, false].map((mappedFirst) => ({
      arch: arch,
      initial: initial,
      mappedFirst: mappedFirst,
      r: explore(a2(arch, initial, mappedFirst).build(), { progress: `A2 ${arch} ${initial}`, maxStates: 2_000_000 }),
    })),
  ),
);
table(
  a2runs.map((x) => ({
    arch: x.arch,
    "memory held": x.initial,
    order: x.mappedFirst ? "jit_text_alloc: mapped RX, then written" : "mmap: written, then mapped RX",
    ...ranColumns(x.r),
    complete: x.r.stats.complete,
  })),
  "What CPU1 executed, every interleaving",
);

// %%
import { outcomeBars } from "execmem-lab";
outcomeBars(a2runs.filter((x) => x.mappedFirst).map((x) => x.r), { title: "Mapped before written: final states per outcome class" });

// %% [markdown]
// ## The witnesses
//
// One shortest witness per architecture (trap-filled memory): which structure held the
// intermediate text, and when it got there. The hardware step `speculative fetch` is the
// "opportunity for CPUs, speculatively or otherwise, to start filling various caches with
// intermediate states of the text".

// %%
import { witnessFigure, display } from "execmem-lab";
for (const x of a2runs.filter((y) => y.mappedFirst && y.initial === "trap")) {
  const w = badWitness(x.r);
  if (!w) { console.log(`${x.arch}: no bad outcome`); continue; }
  display(stepsTable(w.witness, `${x.arch}: witness of ${w.key}`));
  display(witnessFigure(w, { versions: ["old", "new"], title: `${x.arch}: ${w.key}` }));
}

// %% [markdown]
// ## Conclusion (computed)

// %%
const mappedFirst = a2runs.filter((x) => x.mappedFirst);
const perArch = archList.map((a) => ({
  arch: a,
  bad: [...new Set(mappedFirst.filter((x) => x.arch === a).flatMap((x) => badOf(x.r)))],
  mmapBad: [...new Set(a2runs.filter((x) => x.arch === a && !x.mappedFirst).flatMap((x) => badOf(x.r)))],
}));
const a2supported = perArch.filter((p) => p.bad.length > 0).map((p) => p.arch);
md(
  `With the mapping in place before the text is written and no serialisation, the model finds code other than the new program ` +
    `on **${a2supported.join(", ") || "no architecture"}**` +
    (a2supported.length === archList.length ? ` — the claim is **supported**, x86 included` : ` — the claim is **not supported** on ${archList.filter((a) => !a2supported.includes(a)).join(", ")}`) +
    `. Reached: ${perArch.map((p) => `${p.arch} ${p.bad.join("/") || "nothing bad"}`).join("; ")}.\n\n` +
    `With mmap()'s order (written, then mapped RX, still no serialisation): ` +
    perArch.map((p) => `${p.arch} ${p.mmapBad.length ? "still reaches " + p.mmapBad.join("/") : "only the new code (possibly after a spurious fault)"}`).join("; ") +
    `. Where the order alone is not enough, the missing piece is cache maintenance and synchronisation of the other CPUs (A4, A9).`,
);

// %%
for (const p of perArch) if (p.bad.length === 0) throw new Error(`A2: ${p.arch} reached no bad outcome with the mapping in place first`);
for (const x of a2runs) if (!x.r.stats.complete) throw new Error(`${x.r.scenario}: exploration incomplete`);
console.log("assertions hold:", perArch.map((p) => `${p.arch}: ${p.bad.join("/")}`).join("; "));

// %%
import { summary, sameArch } from "execmem-lab";
const x86a2 = perArch.find((p) => sameArch(p.arch, "x86-64"));
summary({
  argument: "A2",
  claim: "mapped-executable before written: CPUs may fetch intermediate text, even x86 needs serialisation",
  finding:
    `${perArch.every((p) => p.bad.length > 0) ? "supported" : "refuted"} on ${perArch.filter((p) => p.bad.length > 0).map((p) => p.arch).join(", ")}: ` +
    perArch.map((p) => `${p.arch} ${p.bad.join("/")}`).join("; ") +
    (x86a2 ? ` (x86: ${x86a2.bad.length ? "yes, even x86" : "not on x86"})` : ""),
});
