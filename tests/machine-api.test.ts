import { describe, expect, it } from "vitest";
import {
  classifyVersion,
  diffText,
  explore,
  residencyMatrices,
  scenario,
  VERSION_CLASSES,
  type Program,
} from "../lib";

const runs = (
  arch: string,
  writer: (p: Program) => void,
  reader: (p: Program) => void,
  initial = "old",
  lines = 2,
) =>
  new Set(
    explore(
      scenario("api", arch)
        .code("f", { lines, versions: ["old", "new"], initial })
        .cpu(writer)
        .cpu(reader)
        .build(),
    ).outcomes.map((o) =>
      Object.entries(o.values)
        .filter(([k]) => k.startsWith("1:"))
        .map(([, v]) => v)
        .join(" "),
    ),
  );

/**
 * CPU0 runs `writer` on f (trap-filled at first; unmapped if asked) and releases the flag; CPU1
 * acquires it, takes an interrupt if asked, and calls f: the values of its r0.
 */
function fromTrap(
  name: string,
  arch: string,
  writer: (p: Program) => void,
  opts: { unmapped?: boolean; irq?: boolean } = {},
): Set<string> {
  const b = scenario(name, arch)
    .data({ flag: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: "trap" });
  if (opts.unmapped) b.page("f", "none");
  const spec = b
    .cpu((p) => {
      writer(p);
      p.smp_store_release("flag", 1);
    })
    .cpu((p) => {
      p.smp_cond_load_acquire("flag", 1);
      if (opts.irq) p.interrupt();
      p.call("r0", "f");
    })
    .build();
  return new Set(explore(spec).outcomes.map((o) => o.values["1:r0"]));
}

describe("the text-poke family on the machine", () => {
  it("text_poke_bp: a CPU running the site concurrently runs the old or the new instruction, never a torn one", () => {
    for (const arch of ["x86-64", "x86-64+fred"]) {
      const r = runs(
        arch,
        (p) => p.text_poke_bp("f", "new"),
        (p) => p.call("r0", "f").call("r1", "f"),
      );
      expect([...r].sort()).toEqual(["new new", "stale new", "stale stale"]);
    }
  });
  it("text_poke without the int3 protocol can be seen torn", () => {
    const r = runs(
      "x86-64",
      (p) => p.text_poke("f", "new"),
      (p) => p.call("r0", "f"),
    );
    expect(r.has("torn")).toBe(true);
  });
  it("aarch64_insn_patch_text and riscv patch_text (stop_machine) never show torn or trap", () => {
    for (const [arch, poke] of [
      ["arm64", (p: Program) => p.aarch64_insn_patch_text("f", "new")],
      ["riscv64", (p: Program) => p.patch_text("f", "new")],
    ] as const) {
      const r = runs(arch, poke, (p) => p.call("r0", "f").call("r1", "f"));
      for (const o of r) expect(o).not.toMatch(/torn|trap/);
      expect(r.has("new new")).toBe(true);
    }
  });
  it("generic_text_poke picks each architecture's synchronous patching", () => {
    for (const arch of ["x86-64", "arm64", "riscv64"]) {
      const r = runs(
        arch,
        (p) => p.generic_text_poke("f", "new"),
        (p) => p.call("r0", "f"),
      );
      for (const o of r) expect(o).toMatch(/^(new|stale)$/);
    }
  });
  it("misuse: a routine of another architecture and a missing version are errors naming them", () => {
    expect(() =>
      runs(
        "arm64",
        (p) => p.text_poke_bp("f", "new"),
        () => {},
      ),
    ).toThrow(/text_poke_bp\(\) is not available on arm64/);
    expect(() =>
      runs(
        "x86-64",
        (p) => p.macro("text_poke", "f"),
        () => {},
      ),
    ).toThrow(/text_poke\(f, VERSION\): the version to write is missing/);
    expect(() =>
      runs(
        "x86-64",
        (p) => p.text_poke("f", "newer"),
        () => {},
      ),
    ).toThrow(/"newer" is not one of its versions/);
  });
});

describe("the handle protocol and BPF text copy", () => {
  it("jit_text_alloc -> jit_text_write -> jit_text_map: new, or the fault CPU1 fetched ahead (an oops where fault.c does not retry it)", () => {
    const faultOn: Record<string, string> = {
      "x86-64": "oops",
      arm64: "oops",
      riscv64: "spurious-fault+new",
    };
    for (const arch of ["x86-64", "arm64", "riscv64"]) {
      const r = fromTrap("A4", arch, (p) => p.jit_text_write("f", "new").jit_text_map("f"), {
        unmapped: true,
      });
      expect([...r].sort()).toEqual(["new", faultOn[arch]].sort());
    }
  });
  it("A6/A7: bpf_arch_text_copy without text_poke_sync; an interrupt saves the legacy IDT case, not FRED", () => {
    const bpf = (arch: string, irq: boolean) =>
      fromTrap("A6", arch, (p) => p.bpf_arch_text_copy("f", "new"), { irq });
    expect(bpf("x86-64", false).has("trap")).toBe(true);
    expect([...bpf("x86-64", true)]).toEqual(["new"]);
    expect(bpf("x86-64+fred", true).has("trap")).toBe(true);
    // arm64's bpf_arch_text_copy goes through flush_icache_range(), which IPIs every CPU.
    expect([...bpf("arm64", false)]).toEqual(["new"]);
  });
});

describe("the ROX cache's jit_update on the machine", () => {
  it("x86 text poking alone lets another CPU run trap or torn text; arm64 and riscv64 patching syncs", () => {
    const upd = (arch: string) => fromTrap("A8", arch, (p) => p.jit_update("f", "new"));
    expect(upd("x86-64").has("trap")).toBe(true);
    expect([...upd("arm64")]).toEqual(["new"]);
    expect([...upd("riscv64")]).toEqual(["new"]);
  });
});

describe("witness changes and residency cells", () => {
  // Versions declared newest-looking name first: the order, not the names, says which is new.
  const r = explore(
    scenario("order", "arm64")
      .code("f", { lines: 1, versions: ["new", "old"], initial: "new" })
      .cpu((p) => p.text_write("f", "old").dc_cvau("f").dsb("ish").ic_ivau("f").dsb("ish"))
      .cpu((p) => p.call("r0", "f"))
      .build(),
  );
  const steps = r.outcomes.flatMap((o) => o.witness.steps);

  it("are typed records per structure, and the effect text is rendered from them", () => {
    expect(steps.length).toBeGreaterThan(0);
    for (const s of steps) expect(s.effect).toBe(diffText(s.changes));
    const all = steps.flatMap((s) => s.changes);
    const order = ["new", "old"];
    expect(all).toContainEqual({
      structure: "memory",
      cpu: -1,
      line: "f+0",
      from: "new",
      to: "old",
      order,
    });
    expect(all).toContainEqual({
      structure: "pou",
      cpu: -1,
      line: "f+0",
      from: "new",
      to: "new|old",
      order,
    });
    expect(all).toContainEqual({
      structure: "icache",
      cpu: 1,
      line: "f+0",
      from: "new|old",
      to: "old",
      order,
    });
    expect(all).toContainEqual({ structure: "tlb", cpu: 1, line: "f", from: null, to: "RX" });
    expect(all).toContainEqual({
      structure: "register",
      cpu: 1,
      line: "r0",
      from: "none",
      to: "new",
    });
  });

  it("carry the region's version order, which the residency figures read", () => {
    // The run that fetched "old", the last version declared: the machine's "new".
    const w = r.outcomes.find((o) => o.values["1:r0"] === "new")!.witness;
    for (const c of [...w.initial, ...w.steps.flatMap((s) => s.residency)])
      expect(c.order).toEqual(c.structure === "tlb" ? undefined : ["new", "old"]);
    const ic = residencyMatrices(w).find((m) => m.cpu === 1 && m.structure === "icache")!;
    const cls = (col: number) => VERSION_CLASSES[ic.codes[0][col]];
    const last = w.steps.length;
    expect([ic.versions![0][0], cls(0)]).toEqual(["new", "old"]);
    expect([ic.versions![0][last], cls(last)]).toEqual(["old", "new"]);
    expect(classifyVersion("new|old", ["new", "old"])).toBe("old");
  });
});
