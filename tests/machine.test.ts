import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { explore } from "../lib/explorer/explore";
import { architectures } from "../lib/arch";
import { scenario } from "../lib/scenario/builder";
import { badClasses, buildGen, CSE, genScenario, publish } from "./support/scenarios";

const classes = (arch: string, spec: ReturnType<typeof publish>) => {
  const r = explore({ ...spec, arch });
  expect(r.stats.complete).toBe(true);
  return new Set(r.outcomes.map((o) => o.values["1:r0"]));
};

describe("acceptance rows of MODEL.md, built with the TypeScript builder", () => {
  it("S1: x86-64 without serialisation can run stale code", () => {
    const c = classes("x86-64", publish("x86-64", () => {}, () => {}));
    expect(c.has("stale")).toBe(true);
    expect(c.has("new")).toBe(true);
  });
  it("S2: CPUID on the executing CPU leaves only new", () => {
    expect([...classes("x86-64", publish("x86-64", () => {}, (p) => p.cpuid()))]).toEqual(["new"]);
  });
  it("S3: text_poke_sync() before the flag leaves only new", () => {
    expect([...classes("x86-64", publish("x86-64", (p) => p.text_poke_sync(), () => {}))]).toEqual(["new"]);
  });
  it("S4: populate, map RX, publish: new or spurious fault then new, never stale", () => {
    const c = classes("x86-64", publish("x86-64", (p) => p.set_pte("f", "RX"), () => {}, { unmapped: true }));
    expect([...c].sort()).toEqual(["new", "spurious-fault+new"]);
  });
  it("S6: an interrupt serialises on legacy IDT but not with FRED", () => {
    const s = (a: string) => publish(a, () => {}, (p) => p.interrupt());
    expect(classes("x86-64+fred", s("x86-64+fred")).has("stale")).toBe(true);
    expect([...classes("x86-64", s("x86-64"))]).toEqual(["new"]);
  });
  it("S7-S9: arm64 needs both the maintenance and the ISB", () => {
    const maint = (p: Parameters<Parameters<typeof publish>[1]>[0]) => p.dc_cvau("f").dsb("ish").ic_ivau("f").dsb("ish");
    expect(classes("arm64", publish("arm64", (p) => p.dsb("ish"), (p) => p.isb())).has("stale")).toBe(true);
    expect([...classes("arm64", publish("arm64", maint, (p) => p.isb()))]).toEqual(["new"]);
    expect(classes("arm64", publish("arm64", maint, () => {})).has("stale")).toBe(true);
  });
  it("S10: with IDC=DIC=1 the ISB alone suffices", () => {
    expect([...classes("arm64+idc+dic", publish("arm64+idc+dic", (p) => p.dsb("ish"), (p) => p.isb()))]).toEqual(["new"]);
  });
  it("S11: arm64 maintenance before the PTE: new and spurious-fault+new, never stale", () => {
    const c = classes("arm64", publish("arm64", (p) => p.dc_cvau("f").dsb("ish").ic_ivau("f").dsb("ish").set_pte("f", "RX"), () => {}, { unmapped: true }));
    expect([...c].sort()).toEqual(["new", "spurious-fault+new"]);
  });
  it("S12-S13: riscv64 needs fence.i on the executing hart", () => {
    expect(classes("riscv64", publish("riscv64", (p) => p.fence_i().fence(""), () => {})).has("stale")).toBe(true);
    expect([...classes("riscv64", publish("riscv64", (p) => p.fence_i().fence(""), (p) => p.fence_i()))]).toEqual(["new"]);
  });
  it("A10: with FEAT_ExS and EIS/EOS=0 the retry after a spurious fault can run stale code", () => {
    const s = publish("arm64+exs", (p) => p.dc_cvau("f").dsb("ish").ic_ivau("f").dsb("ish").set_pte("f", "RX"), () => {}, { unmapped: true });
    const c = classes("arm64+exs", s);
    expect(c.has("spurious-fault+stale") || c.has("spurious-fault+torn")).toBe(true);
  });
});

describe("misuse names the architecture and the instruction", () => {
  it("IC IVAU on x86-64", () => {
    expect(() => explore(publish("x86-64", (p) => p.ic_ivau("f"), () => {}))).toThrow(/IC IVAU is not an instruction of x86-64 \(it is arm64's\)/);
  });
  it("fence.i on arm64", () => {
    expect(() => explore(publish("arm64", (p) => p.fence_i(), () => {}))).toThrow(/fence\.i is not an instruction of arm64/);
  });
  it("text_poke_sync on riscv64", () => {
    expect(() => explore(publish("riscv64", (p) => p.text_poke_sync(), () => {}))).toThrow(/text_poke_sync\(\) is not available on riscv64/);
  });
  it("a call into a data location", () => {
    const s = scenario("bad", "x86-64").data({ flag: 0 }).code("f", { lines: 1, versions: ["new"], initial: "new" }).cpu((p) => p.call("r0", "flag")).build();
    expect(() => explore(s)).toThrow(/call: "flag" is a data location, not code/);
  });
  it("a line out of range", () => {
    expect(() => explore(publish("arm64", (p) => p.ic_ivau("f+5"), () => {}))).toThrow(/IC IVAU f\+5: line out of range/);
  });
  it("an unknown architecture", () => {
    expect(() => explore(publish("sparc", () => {}, () => {}))).toThrow(/unknown architecture "sparc"/);
  });
});

describe("witnesses", () => {
  it("the stale witness of S1 ends with the call and shows the stale pipeline line", () => {
    const r = explore(publish("x86-64", () => {}, () => {}));
    const o = r.outcomes.find((x) => x.values["1:r0"] === "stale")!;
    const w = o.witness;
    expect(w.steps.length).toBeGreaterThan(3);
    expect(w.steps.at(-1)!.action).toMatch(/call f/);
    expect(w.steps.some((s) => s.action.startsWith("speculative fetch f+") && s.cpu === 1)).toBe(true);
    // Every step is numbered and carries residency.
    w.steps.forEach((s, i) => expect(s.step).toBe(i + 1));
    expect(w.steps.some((s) => s.residency.some((c) => c.structure === "pipeline" && c.version === "old"))).toBe(true);
  });
  it("witnesses are shortest: no outcome has a shorter path in a second exploration", () => {
    const r = explore(publish("arm64", (p) => p.dsb("ish"), (p) => p.isb()));
    for (const o of r.outcomes) expect(o.witness.steps.length).toBeLessThanOrEqual(30);
  });
});

describe("properties of the architecture rules (fast-check)", () => {
  const runs = { numRuns: 60, seed: 20261124 };
  it("adding a context-synchronising event before a call never adds a bad outcome", () => {
    fc.assert(
      fc.property(genScenario, (g) => {
        const base = explore(buildGen(g), { witnesses: false });
        const fam = architectures[g.arch].family;
        const withCse = { ...g, readers: g.readers.map((r) => [...r, { insn: CSE[fam] }]) };
        const more = explore(buildGen(withCse), { witnesses: false });
        for (const b of badClasses(more.outcomes)) expect(badClasses(base.outcomes)).toContain(b);
      }),
      runs,
    );
  });
  it("on arm64 with IDC=DIC=1 removing DC CVAU / IC IVAU never adds a bad outcome", () => {
    fc.assert(
      fc.property(genScenario.filter((g) => g.arch === "arm64+idc+dic" || g.arch === "arm64"), (g) => {
        const a = { ...g, arch: "arm64+idc+dic" };
        const strip = { ...a, writer: a.writer.filter((o) => !("insn" in o) || !/^(DC CVAU|IC IVAU)/.test(o.insn)) };
        const full = explore(buildGen(a), { witnesses: false });
        const less = explore(buildGen(strip), { witnesses: false });
        for (const b of badClasses(less.outcomes)) expect(badClasses(full.outcomes)).toContain(b);
      }),
      runs,
    );
  });
  it("exploration is deterministic", () => {
    fc.assert(
      fc.property(genScenario, (g) => {
        const a = explore(buildGen(g));
        const b = explore(buildGen(g));
        expect(b.outcomes.map((o) => [o.key, o.count, o.witness.steps.map((s) => s.action)])).toEqual(
          a.outcomes.map((o) => [o.key, o.count, o.witness.steps.map((s) => s.action)]),
        );
        expect(b.stats.states).toBe(a.stats.states);
      }),
      { ...runs, numRuns: 25 },
    );
  });
  it("the liveness reduction loses no outcome (same outcome sets with and without it)", () => {
    fc.assert(
      fc.property(genScenario, (g) => {
        const with_ = explore(buildGen(g), { witnesses: false });
        const without = explore(buildGen(g), { witnesses: false, liveness: false });
        expect(with_.outcomes.map((o) => o.key)).toEqual(without.outcomes.map((o) => o.key));
        expect(with_.stats.states).toBeLessThanOrEqual(without.stats.states);
      }),
      { ...runs, numRuns: 40 },
    );
  });
});
