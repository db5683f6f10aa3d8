import { describe, expect, it } from "vitest";
import { Execmem, effectsToOps, explore, scenario, type ExecmemEffect, type Op } from "../lib";

/** Runs calls on an allocator and keeps every effect they recorded. */
function record(s: Execmem, calls: (() => void)[]): ExecmemEffect[] {
  const out: ExecmemEffect[] = [];
  for (const c of calls) {
    c();
    out.push(...s.lastEffects);
  }
  return out;
}

/**
 * The recorded ops on CPU0 then a release of the flag; CPU1 acquires the flag and calls f, trap
 * filled at first: the values its r0 took.
 */
function runOps(s: ReturnType<typeof scenario>, ops: Op[], versions: string[]): Set<string> {
  const spec = s
    .data({ flag: 0 })
    .code("f", { lines: 2, versions, initial: "trap" })
    .cpu((p) => {
      p.append(ops);
      p.smp_store_release("flag", 1);
    })
    .cpu((p) => p.smp_cond_load_acquire("flag", 1).call("r0", "f"))
    .build();
  return new Set(explore(spec).outcomes.map((o) => o.values["1:r0"]));
}

describe("execmem calls on the machine (effectsToOps)", () => {
  const arches = ["x86-64", "arm64", "riscv64"] as const;

  // The fault CPU1 may fetch while the page is unmapped: x86 (not present) and arm64 (EL1
  // instruction abort) oops on kernel text, riscv64 retries it (lib/arch spuriousFetchFault).
  const faultOn: Record<string, string> = {
    "x86-64": "oops",
    arm64: "oops",
    riscv64: "spurious-fault+new",
  };
  it("the handle protocol's recorded effects explore to new, or the fault each arch's fault.c makes of it", () => {
    for (const a of arches) {
      const s = new Execmem(a, { kaslr: false });
      const h = s.jitHandle.jit_text_alloc(128);
      const fx = record(s, [
        () => s.jitHandle.jit_text_write(h, 0, 128, "prog"),
        () => s.jitHandle.jit_text_map(h),
      ]);
      const { ops, versions, skipped } = effectsToOps(fx, { region: "f", va: h.addr, size: 128 });
      expect(versions).toEqual(["prog"]);
      expect(ops.some((o) => o.op === "pte")).toBe(true);
      const got = runOps(scenario("A4 via execmem", a).page("f", "none"), ops, versions);
      expect([...got].sort(), `${a}: ${JSON.stringify(ops)} (skipped ${skipped})`).toEqual(
        ["new", faultOn[a]].sort(),
      );
    }
  });

  it("bpf_prog_pack + bpf_arch_text_copy on x86 sends no text_poke_sync: trap-filled text can run", () => {
    const s = new Execmem("x86-64", { kaslr: false });
    let addr = 0;
    const fx = record(s, [
      () => (addr = s.bpf_prog_pack_alloc(128)),
      () => s.bpf_arch_text_copy(addr, 128, "prog"),
    ]);
    const { ops } = effectsToOps(fx, { region: "f", va: addr, size: 128 });
    expect(ops.map((o) => (o.op === "macro" ? o.name : o.op))).toContain("text_poke_copy");
    expect(ops.some((o) => o.op === "macro" && o.name === "text_poke_sync")).toBe(false);
    const got = runOps(scenario("A6 via execmem", "x86-64"), ops, ["prog"]);
    expect(got.has("trap")).toBe(true);
    expect(got.has("new")).toBe(true);
  });

  it("effects outside the target range give no steps", () => {
    const s = new Execmem("x86-64", { kaslr: false });
    const h = s.jitHandle.jit_text_alloc(128);
    const fx = record(s, [() => s.jitHandle.jit_text_write(h, 0, 128, "prog")]);
    expect(effectsToOps(fx, { region: "f", va: h.addr + (1 << 20), size: 128 }).ops).toEqual([]);
  });
});
