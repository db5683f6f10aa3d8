// %% [markdown]
// # 90 — Fidelity: the model against its references, in this run
//
// How far to trust the other notebooks. Two references, both run now:
//
// 1. **The acceptance scenarios S1–S13** of docs/model.md (`tests/scenarios/S*.litmus`, S6 as an IDT
//    and a FRED file): each file states the expected observation of its final condition in a
//    `Result:` line, as docs/model.md §Acceptance scenarios tabulates.
// 2. **The public herd7 litmus corpus** for AArch64 instruction fetch (Simner et al., ESOP 2020;
//    `../shared/litmus/aarch64-ifetch/`): 52 hand-written tests read by the AArch64 litmus
//    frontend (`agree()`, lib/litmus) and compared with herd7 7.58's observation (`-variant
//    ifetch`) and, for the 16 tests of the paper's table, the architectural intent (allow / forbid).

// %% tags=["parameters"]
let arch = "arm64"; // the corpus is AArch64; the acceptance scenarios name their own architecture
let cpus = 2; // unused: every test fixes its own CPU count
let seed = 1; // unused (exhaustive exploration)
let corpus = "../../shared/litmus/aarch64-ifetch";

// %% [include] _helpers.ts

// %%
import { loadScenario, explore } from "execmem-lab";
import { readdirSync, existsSync } from "fs";
const sFiles = readdirSync("../tests/scenarios")
  .filter((f) => /^S\d+(\.\w+)?\.litmus$/.test(f))
  .sort((a, b) => parseInt(a.slice(1)) - parseInt(b.slice(1)) || a.localeCompare(b));
const sRuns = sFiles.map((f) => ({ file: f, r: explore(loadScenario(`../tests/scenarios/${f}`)) }));
table(
  sRuns.map((x) => ({
    file: x.file,
    arch: x.r.arch,
    condition: x.r.condition,
    expected: x.r.expected,
    observed: x.r.observation,
    "CPU1 ran": valuesOf(x.r).join(", "),
    states: x.r.stats.states,
    agrees: x.r.matchesExpectation ? "yes" : "NO",
  })),
  `Acceptance scenarios: ${sRuns.filter((x) => x.r.matchesExpectation).length}/${sRuns.length} as their Result: lines expect`,
);

// %%
import { outcomeBars } from "execmem-lab";
outcomeBars(sRuns.map((x) => x.r), { title: "S1–S13: final states per outcome class" });

// %% [markdown]
// ## The herd7 AArch64 instruction-fetch corpus

// %%
import { agree, readExpected, progress, type AgreeReport } from "execmem-lab";
let report: AgreeReport | null = null;
if (existsSync(`${corpus}/expected.tsv`)) {
  const rows = readExpected(corpus);
  const bar90 = progress("herd7 corpus", rows.length);
  report = agree(corpus, { onEntry: (e) => bar90.tick(1, e.name) });
  bar90.finish(`${report.entries.length} tests in ${report.seconds.toFixed(1)} s`);
} else console.log(`corpus not found at ${corpus}: the herd7 comparison is skipped in this run`);
const intentOf = (name: string) => (report ? readExpected(corpus).find((r) => r.name === name)?.notes[0] ?? "-" : "-");
report
  ? table(
      report.entries.map((e) => ({
        test: e.name,
        herd7: e.expected,
        "ESOP 2020 intent": intentOf(e.name),
        model: e.observation ?? "—",
        status: e.status,
        reason: e.reason ?? "",
      })),
      `herd7 agreement: ${report.agreed.length} agreed, ${report.disagreed.length} disagreed, ${report.unsupported.length} unsupported of ${report.entries.length}`,
    )
  : "no corpus";

// %%
import { figure } from "execmem-lab";
const groups90 = report
  ? [
      { name: "all tests", es: report.entries },
      { name: "paper table (allow/forbid)", es: report.entries.filter((e) => ["allow", "forbid"].includes(intentOf(e.name))) },
      { name: "herd7 Never", es: report.entries.filter((e) => e.expected === "Never") },
      { name: "herd7 Sometimes/Always", es: report.entries.filter((e) => e.expected !== "Never") },
    ]
  : [];
figure(
  (["agreed", "disagreed", "unsupported"] as const).map((st, i) => ({
    type: "bar",
    name: st,
    x: groups90.map((g) => g.name),
    y: groups90.map((g) => g.es.filter((e) => e.status === st).length),
    marker: { color: ["#009E73", "#D55E00", "#999999"][i] },
  })),
  { title: "Model against herd7 (AArch64 ifetch corpus)", barmode: "stack", yaxis: { title: { text: "tests" } } },
);

// %% [markdown]
// ## The herd7 RISC-V instruction-fetch corpus
//
// `../shared/litmus/riscv-ifetch/`: 37 tests with herd7's verdict (Allow / Forbid) under two
// model configurations — Zifencei only (`kinds-Ziccif-only.txt`, run on `riscv64`) and Ziccid
// (`kinds-Ziccid.txt`, run on `riscv64+ziccid`) — read by the RISC-V front-end (lib/litmus).

// %%
import { agreeKinds, riscvConfigsIn, type KindsReport } from "execmem-lab";
const rvCorpus = corpus.replace(/aarch64-ifetch\/?$/, "riscv-ifetch");
const rvReports: KindsReport[] = existsSync(rvCorpus) ? riscvConfigsIn(rvCorpus).map((c) => agreeKinds(rvCorpus, c)) : [];
rvReports.length
  ? table(
      rvReports[0].entries.map((e, i) => ({
        test: e.name,
        ...Object.fromEntries(rvReports.flatMap((r) => [[`herd7 ${r.kinds}`, r.entries[i].expected], [`${r.arch}`, r.entries[i].verdict ?? r.entries[i].status]])),
      })),
      rvReports.map((r) => `${r.kinds} on ${r.arch}: ${r.agreed.length}/${r.entries.length} agree`).join("; "),
    )
  : md(`RISC-V corpus not found at ${rvCorpus}: skipped in this run.`);

// %%
for (const r of rvReports) if (r.agreed.length < 34) throw new Error(`fidelity: RISC-V ${r.kinds} on ${r.arch}: only ${r.agreed.length}/${r.entries.length} agree`);
md(rvReports.map((r) => `**RISC-V ${r.kinds}** (${r.arch}): ${r.agreed.length} of ${r.entries.length} agree with herd7${r.disagreed.length ? `; disagree: ${r.disagreed.join(", ")}` : ""}${r.unsupported.length ? `; unsupported: ${r.unsupported.join(", ")}` : ""}.`).join("\n\n") || "RISC-V corpus not run.");

// %% [markdown]
// ## Conclusion (computed)

// %%
const sOk = sRuns.filter((x) => x.r.matchesExpectation === true).length;
const paper = groups90.find((g) => g.name.startsWith("paper"))?.es ?? [];
const neverSide = report ? report.disagreed.map((n) => report!.entries.find((e) => e.name === n)!) : [];
const stricter = neverSide.filter((e) => e.observation === "Never" && e.expected !== "Never").length;
const looser = neverSide.filter((e) => e.expected === "Never" && e.observation !== "Never").length;
md(
  `**Acceptance scenarios**: ${sOk} of ${sRuns.length} files observe what their Result: line expects${sOk === sRuns.length ? "" : " — the argument notebooks built on the failing rows are not to be trusted"}.\n\n` +
    (report
      ? `**herd7 corpus**: the model agrees with herd7 on ${report.agreed.length} of ${report.entries.length} tests ` +
        `(${paper.filter((e) => e.status === "agreed").length} of the ${paper.length} tests of the paper's table), ` +
        `${report.unsupported.length} unsupported. Of the ${report.disagreed.length} disagreements, ${stricter} are the model forbidding what herd7 allows ` +
        `(the model is *stricter* than the architecture there: a "Never" from the model is weaker evidence of safety on arm64 than a herd7 "Never"), ` +
        `and ${looser} are the model allowing what herd7 forbids (the model is *looser*: a bad outcome it finds may not be architecturally reachable). ` +
        `Read the arm64 verdicts of the other notebooks with that in mind.`
      : "**herd7 corpus**: not found in this run; see `npm run agree`."),
);

// %%
if (sOk !== sRuns.length) throw new Error(`fidelity: ${sRuns.length - sOk} acceptance scenarios disagree with their Result: line: ${sRuns.filter((x) => !x.r.matchesExpectation).map((x) => x.file).join(", ")}`);
if (sRuns.length < 14) throw new Error(`fidelity: only ${sRuns.length} acceptance files found`);
if (report && report.entries.length !== readExpected(corpus).length) throw new Error("fidelity: not every corpus test ran");
if (report && report.agreed.length === 0) throw new Error("fidelity: no agreement with herd7 at all");
console.log("assertions hold");

// %%
import { summary } from "execmem-lab";
summary({
  argument: "fidelity",
  claim: "the model reproduces the acceptance scenarios S1–S13 and agrees with herd7 on the AArch64 ifetch corpus",
  finding:
    `S1–S13: ${sOk}/${sRuns.length} files as expected; ` +
    (report ? `herd7: ${report.agreed.length}/${report.entries.length} agree (${stricter} stricter, ${looser} looser, ${report.unsupported.length} unsupported)` : "herd7 corpus not run") +
    ` — ${sOk === sRuns.length && report && report.disagreed.length === 0 ? "supported" : sOk === sRuns.length ? "S rows supported, herd7 partly" : "refuted"}`,
});
