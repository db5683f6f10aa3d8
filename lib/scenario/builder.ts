/**
 * A TypeScript builder that reads like kernel code:
 *
 *   const s = scenario("S1", "x86-64")
 *     .data({ flag: 0 })
 *     .code("f", { lines: 2, versions: ["old", "new"], initial: "old" })
 *     .cpu((p) => { p.text_write("f", "new"); p.smp_store_release("flag", 1); })
 *     .cpu((p) => { p.smp_cond_load_acquire("flag", 1); p.call("r0", "f"); })
 *     .exists("1:r0=stale");
 *   explore(s.build());
 */
import type { MacroStep } from "../arch";
import type { Observation } from "../model";
import type {
  Alias,
  CpuSpec,
  FrameSpec,
  Op,
  PageSpec,
  Perm,
  RegionSpec,
  ScenarioSpec,
} from "./spec";

/** A region line: "f" (every line) or "f+1". */
function at(target: string): { region: string; line?: number } {
  const m = /^([A-Za-z_][\w.]*)(?:\+(\d+))?$/.exec(target);
  if (!m) throw new Error(`"${target}" is not a code region or region+line`);
  return { region: m[1], line: m[2] === undefined ? undefined : Number(m[2]) };
}

/** The program of one CPU. Methods are named as the kernel names the primitive. */
export class Program {
  readonly ops: Op[] = [];
  speculateOn?: string[];
  interruptsAnywhere = 0;

  private push(op: Op): this {
    this.ops.push(op);
    return this;
  }
  /** Append ready-made operations (for example from effectsToOps()). */
  append(ops: readonly Op[]): this {
    for (const op of ops) this.push(op);
    return this;
  }
  // Data side.
  WRITE_ONCE(loc: string, value: number): this {
    return this.push({ op: "store", loc, value });
  }
  smp_store_release(loc: string, value: number): this {
    return this.push({ op: "store", loc, value, release: true });
  }
  READ_ONCE(reg: string, loc: string): this {
    return this.push({ op: "load", reg, loc });
  }
  smp_load_acquire(reg: string, loc: string): this {
    return this.push({ op: "load", reg, loc, acquire: true });
  }
  /** Spin until loc == value, with acquire semantics (smp_cond_load_acquire). */
  smp_cond_load_acquire(loc: string, value: number): this {
    return this.push({ op: "await", loc, value, acquire: true });
  }
  /** Spin until READ_ONCE(loc) == value. */
  wait_until(loc: string, value: number): this {
    return this.push({ op: "await", loc, value });
  }
  readonly smp_mb = this.routine("smp_mb");
  readonly smp_wmb = this.routine("smp_wmb");
  readonly smp_rmb = this.routine("smp_rmb");
  // Code.
  /** Write a version into a region (every line, or "f+1") through an alias. */
  text_write(target: string, version: string, via: Alias = "direct-map", frame?: string): this {
    return this.push({ op: "write", ...at(target), version, via, ...(frame ? { frame } : {}) });
  }
  set_pte(page: string, perm: Perm | "none", frame?: string): this {
    return this.push({
      op: "pte",
      page,
      perm: perm === "none" ? "" : perm,
      ...(frame ? { frame } : {}),
    });
  }
  /** Call into a region; the register receives what ran (new, stale, trap, torn, fault...). */
  call(reg: string, region: string): this {
    return this.push({ op: "call", reg, region });
  }
  interrupt(): this {
    return this.push({ op: "interrupt" });
  }
  // Instructions (checked against the scenario's architecture when compiled).
  /** An instruction; maintenance by address may name the frame reached through another alias. */
  insn(name: string, target?: string, frame?: string): this {
    return this.push({
      op: "insn",
      name,
      ...(target ? at(target) : {}),
      ...(frame ? { frame } : {}),
    });
  }
  readonly cpuid = this.instruction("CPUID");
  readonly serialize = this.instruction("SERIALIZE");
  readonly iret = this.instruction("IRET");
  readonly mov_cr3 = this.instruction("MOV CR3");
  readonly isb = this.instruction("ISB");
  dsb(domain: "ish" | "nsh" | "sy" | "ishst" = "ish"): this {
    return this.insn(`DSB ${domain.toUpperCase()}`);
  }
  dmb(domain: "ish" | "ishst" | "ishld" | "sy" = "ish"): this {
    return this.insn(`DMB ${domain.toUpperCase()}`);
  }
  dc_cvau(target: string, frame?: string): this {
    return this.insn("DC CVAU", target, frame);
  }
  ic_ivau(target: string, frame?: string): this {
    return this.insn("IC IVAU", target, frame);
  }
  readonly ic_iallu = this.instruction("IC IALLU");
  readonly ic_ialluis = this.instruction("IC IALLUIS");
  readonly fence_i = this.instruction("fence.i");
  fence(kind = "rw,rw"): this {
    return this.insn(kind === "" ? "fence" : `fence ${kind}`);
  }
  readonly sfence_vma = this.instruction("sfence.vma");
  // Kernel routines, expanded by the architecture.
  macro(name: string, region?: string, frame?: string, version?: string): this {
    return this.push({
      op: "macro",
      name,
      ...(region ? { region } : {}),
      ...(frame ? { frame } : {}),
      ...(version ? { version } : {}),
    });
  }
  /** A call of routine `name` without operands. */
  private routine(name: string): () => this {
    return () => this.macro(name);
  }
  /** A call of routine `name` writing `version` into a region. */
  private writing(name: string): (region: string, version: string) => this {
    return (region, version) => this.macro(name, region, undefined, version);
  }
  /** A call of routine `name` on a region. */
  private onRegion(name: string): (region: string) => this {
    return (region) => this.macro(name, region);
  }
  /** A call of instruction `name` without operands. */
  private instruction(name: string): () => this {
    return () => this.insn(name);
  }
  // The text-poke family and the execmem/JIT calls, expanded by the architecture (lib/arch).
  /** x86 text_poke(): write through the temporary mm; serialises this CPU only. */
  readonly text_poke = this.writing("text_poke");
  readonly text_poke_copy = this.writing("text_poke_copy");
  /** x86 text_poke_set(): fill with int3. */
  readonly text_poke_set = this.onRegion("text_poke_set");
  /** x86 text_poke_bp(): the int3 protocol with text_poke_sync() between the phases. */
  readonly text_poke_bp = this.writing("text_poke_bp");
  readonly aarch64_insn_patch_text_nosync = this.writing("aarch64_insn_patch_text_nosync");
  /** arm64 aarch64_insn_patch_text(): stop_machine(), patch, the others ISB. */
  readonly aarch64_insn_patch_text = this.writing("aarch64_insn_patch_text");
  readonly patch_text_nosync = this.writing("patch_text_nosync");
  /** riscv patch_text(): stop_machine(), patch, the others fence.i. */
  readonly patch_text = this.writing("patch_text");
  /** The architecture-independent text_poke(): each architecture's synchronous patching. */
  readonly generic_text_poke = this.writing("generic_text_poke");
  /** Handle protocol: write the text while its address is not mapped. */
  readonly jit_text_write = this.writing("jit_text_write");
  /** Handle protocol: map the text, with the synchronisation the architecture needs. */
  readonly jit_text_map = this.onRegion("jit_text_map");
  /** The ROX cache's jit_update(): write by the architecture's text poking. */
  readonly jit_update = this.writing("jit_update");
  readonly bpf_arch_text_copy = this.writing("bpf_arch_text_copy");
  readonly bpf_arch_text_invalidate = this.onRegion("bpf_arch_text_invalidate");
  readonly sync_core = this.routine("sync_core");
  readonly text_poke_sync = this.routine("text_poke_sync");
  flush_icache_range(region: string, frame?: string): this {
    return this.macro("flush_icache_range", region, frame);
  }
  readonly flush_icache_all = this.routine("flush_icache_all");
  readonly kick_all_cpus_sync = this.routine("kick_all_cpus_sync");
  flush_tlb_kernel_range(region?: string): this {
    return this.macro("flush_tlb_kernel_range", region);
  }
  /**
   * Steps of an architecture's routine tables (lib/arch, e.g. archSequence()): each instruction,
   * by address of `region` where the step is per line, and each routine, in order.
   */
  steps(steps: readonly MacroStep[], region?: string): this {
    for (const s of steps) {
      if ("insn" in s) this.insn(s.insn, s.perLine ? region : undefined);
      else if ("macro" in s) this.macro(s.macro);
      else throw new Error(`${JSON.stringify(s)}: a step here is an instruction or a routine`);
    }
    return this;
  }
  /** Regions this CPU may fetch speculatively (default: the ones it calls). */
  speculate(...regions: string[]): this {
    this.speculateOn = regions;
    return this;
  }
  /** Allow this many interrupts to arrive at any point. */
  interrupts(n: number): this {
    this.interruptsAnywhere = n;
    return this;
  }
}

/** Builds a {@link ScenarioSpec} step by step; see {@link scenario}. */
export class ScenarioBuilder {
  private readonly spec: ScenarioSpec;
  constructor(name: string, arch: string) {
    this.spec = { name, arch, data: {}, regions: [], pages: [], frames: [], cpus: [] };
  }
  /** Shared data locations and their initial values (numbers), e.g. `{ flag: 0 }`. */
  data(values: Record<string, number>): this {
    Object.assign(this.spec.data, values);
    return this;
  }
  /** A code region `name`: its size in cache lines, its versions, the initial one and its page. */
  code(name: string, r: Omit<RegionSpec, "name">): this {
    this.spec.regions.push({ name, ...r });
    return this;
  }
  /**
   * A page with permissions (`"RX"`, `"RW"`, ..., or `"none"` for not present), optionally
   * mapping `frame`; `user` makes it a user mapping (faults go through handle_mm_fault()).
   */
  page(
    name: string,
    perm: Perm | "none",
    frame?: string | null,
    opts: { user?: boolean } = {},
  ): this {
    const p: PageSpec = { name, perm: perm === "none" ? "" : perm };
    if (frame !== undefined) p.frame = frame;
    if (opts.user) p.user = true;
    this.spec.pages!.push(p);
    return this;
  }
  /** A physical frame laid out like region `like`, holding version `initial`. */
  frame(name: string, like: string, initial: string): this {
    const f: FrameSpec = { name, like, initial };
    this.spec.frames!.push(f);
    return this;
  }
  /** Add a CPU whose program `body` writes (operations in the kernel's words, in order). */
  cpu(body: (p: Program) => void): this {
    const p = new Program();
    body(p);
    const c: CpuSpec = { program: p.ops };
    if (p.speculateOn) c.speculate = p.speculateOn;
    if (p.interruptsAnywhere) c.interrupts = p.interruptsAnywhere;
    this.spec.cpus.push(c);
    return this;
  }
  /** Declare outcome classes handled ("fault", "oops"): not bad in verdicts. */
  handled(...classes: ("fault" | "oops")[]): this {
    this.spec.handled = [...new Set([...(this.spec.handled ?? []), ...classes])];
    return this;
  }
  /** Final condition `exists (cond)`: the explorer says whether some execution satisfies it. */
  exists(cond: string): this {
    this.spec.condition = `exists (${cond})`;
    return this;
  }
  /** Final condition `~exists (cond)`: no execution may satisfy it. */
  notExists(cond: string): this {
    this.spec.condition = `~exists (${cond})`;
    return this;
  }
  /** Final condition `forall (cond)`: every execution must satisfy it. */
  forall(cond: string): this {
    this.spec.condition = `forall (${cond})`;
    return this;
  }
  /** The observation the scenario states it gives (a `Result:` line); results report whether it matched. */
  expect(o: Observation): this {
    this.spec.expect = o;
    return this;
  }
  /** A copy of the scenario for another architecture variant. */
  on(arch: string): ScenarioBuilder {
    const b = new ScenarioBuilder(this.spec.name, arch);
    Object.assign(b.spec, structuredClone({ ...this.spec, arch }));
    return b;
  }
  /** The finished scenario (a plain-data copy; the builder can go on being used). */
  build(): ScenarioSpec {
    return structuredClone(this.spec);
  }
}

/**
 * Start a scenario named `name` on the architecture variant `arch` ("x86-64", "arm64", ...):
 * add data, code regions, pages and CPU programs, then `.build()`. The variant is checked when
 * the scenario is compiled (by {@link explore}), not here.
 */
export function scenario(name: string, arch: string): ScenarioBuilder {
  return new ScenarioBuilder(name, arch);
}

/** What {@link publishAndCall} builds around. */
export interface PublishAndCall {
  /** How many CPUs: CPU0 publishes, every other one calls. */
  cpus: number;
  /** The data location the code is published through (default "flag"). */
  flag?: string;
  /** The version code region f (2 lines, versions old and new) holds at first (default "old"). */
  initial?: string;
  /** What CPU0 does before it publishes (writes f, synchronises...). */
  publish(p: Program): void;
  /** What each other CPU does between seeing the flag and calling f. */
  beforeCall?(p: Program): void;
}

/**
 * The publication pattern of the thread: CPU0 writes code region f and publishes it with
 * smp_store_release(flag, 1); each other CPU waits with smp_cond_load_acquire(flag, 1), then
 * calls f into r0. Add the final condition (e.g. `.exists("1:r0!=new")`) and build.
 */
export function publishAndCall(name: string, arch: string, o: PublishAndCall): ScenarioBuilder {
  const flag = o.flag ?? "flag";
  const b = scenario(name, arch)
    .data({ [flag]: 0 })
    .code("f", { lines: 2, versions: ["old", "new"], initial: o.initial ?? "old" })
    .cpu((p) => {
      o.publish(p);
      p.smp_store_release(flag, 1);
    });
  for (let i = 1; i < o.cpus; i++)
    b.cpu((p) => {
      p.smp_cond_load_acquire(flag, 1);
      o.beforeCall?.(p);
      p.call("r0", "f");
    });
  return b;
}
