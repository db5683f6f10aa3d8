/**
 * What the AArch64 (translate.ts) and RISC-V (riscv-translate.ts) front-ends share when they turn
 * a herd7 litmus test into a ScenarioSpec of this project's machine (docs/litmus.md,
 * "Translation"):
 *
 * - data locations from the initial state; every code label a register holds is a one-line code
 *   region `P1_f` whose versions are the instruction values that can be there;
 * - the final condition with herd7's names made the machine's (`instr:"..."` values, registers,
 *   `[x]`), and the names it reads;
 * - a thread's program: a label per reached position, plain instructions through the ISA's
 *   `emit` hook, and at a region an `exec` that fetches the line and dispatches on the version
 *   it fetched to a block performing it.
 *
 * The instructions themselves (decoding, control flow, ops) are each ISA's hooks.
 */
import type { SourcePos } from "../model";
import type { CpuSpec, Op, Operand, RegionSpec, ScenarioSpec } from "../scenario/spec";
import type { At, CodeAt, Fail, InitValueOf } from "./frame";

export interface Translation {
  spec: ScenarioSpec;
  /** Architecture variant (AArch64: from the header's CacheType line). */
  arch: string;
  /** The final condition with herd7 values rewritten to the machine's names. */
  condition: string;
  /** Instruction value names -> herd7 text (`B_.+4` -> `B .+4`). */
  instructions: Record<string, string>;
  /** Code regions -> the label they stand for (`P1_f` -> `P1:f`). */
  regions: Record<string, string>;
  /** Names the herd7 condition reads (registers "1:X0", locations "x"), in order. */
  observed: string[];
  /** What herd7 accepts but is likely a mistake (a location the test never declares). */
  warnings?: string[];
}

/** Largest integer a machine register or data location holds. */
export const MAX_INT = 99n;

/** The scenario region holding the code at label `label` of litmus thread `thread` ("P0_L0"). */
export function regionName(thread: number, label: string): string {
  return `P${thread}_${label}`;
}

/** The parts of a parsed litmus test the shared translation reads. */
export interface TestOf<I> {
  file: string;
  name: string;
  init: {
    thread: number | null;
    name: string;
    value: InitValueOf<I> | null;
    line: number;
    column: number;
  }[];
  threads: { name: string; code: CodeAt<I>[] }[];
  condition: { text: string; line: number; column: number };
  locations: string[];
}

/** Position of label `lab` in thread `th`'s code (-1 when it has none). */
export function labelPos<I>(test: TestOf<I>, th: number, lab: string): number {
  return test.threads[th].code.findIndex((p) => p.labels.includes(lab));
}

/** The source position of an op. */
export function posOf(at: At): SourcePos {
  return { line: at.line, column: at.column };
}

/** The operand of a register's initial value that is an address or an instruction. */
export function initOperand<I>(
  v: Exclude<InitValueOf<I>, { k: "int" }>,
  symbol: (i: I) => string,
): Operand {
  if (v.k === "loc") return { addr: v.name };
  if (v.k === "label") return { addr: regionName(v.thread, v.label) };
  return { insn: symbol(v.insn) };
}

/**
 * Data locations of the initial state (integers 0..99; a declaration without a value is 0),
 * and every location a register holds the address of.
 */
export function dataLocations<I>(test: TestOf<I>, fail: Fail): Record<string, number> {
  const data: Record<string, number> = {};
  for (const e of test.init) {
    if (e.thread !== null) continue;
    if (e.value === null) {
      data[e.name] ??= 0;
      continue;
    }
    if (e.value.k === "label" || e.value.k === "instr" || e.value.k === "loc")
      fail(
        `location ${e.name}: a ${e.value.k === "instr" ? "instruction" : "address"} held in memory is not supported (registers may hold one)`,
        e,
        `${e.name}=`,
      );
    if (e.value.k !== "int" || e.value.value < 0n || e.value.value > MAX_INT)
      fail(`location ${e.name}: the initial value must be an integer 0..99`, e);
    data[e.name] = Number((e.value as { value: bigint }).value);
  }
  for (const e of test.init)
    if (e.thread !== null && e.value?.k === "loc") data[e.value.name] ??= 0;
  return data;
}

/** A code region: the label it stands for and its position in that thread's code. */
export interface LabelRegion {
  thread: number;
  label: string;
  pos: number;
}

/** The code regions: every code label a register holds from the initial state, by name. */
export function labelRegions<I>(test: TestOf<I>, fail: Fail): Map<string, LabelRegion> {
  const out = new Map<string, LabelRegion>();
  for (const e of test.init) {
    if (e.value?.k !== "label") continue;
    const { thread, label } = e.value;
    if (thread >= test.threads.length)
      fail(`P${thread}:${label}: there is no thread P${thread}`, e);
    const pos = labelPos(test, thread, label);
    if (pos < 0) fail(`P${thread}:${label}: P${thread} has no label "${label}"`, e);
    if (test.threads[thread].code[pos].insn === null)
      fail(
        `P${thread}:${label} labels the end of the program, which holds no instruction`,
        e,
        `P${thread}:${label}`,
      );
    out.set(regionName(thread, label), { thread, label, pos });
  }
  return out;
}

/** How an ISA names things in a condition. */
export interface ConditionHooks {
  /** The value name of the instruction written `instr:"text"`. */
  insn(text: string): string;
  /** The machine's name of register `r` ("W1" -> "X1"), or null when `r` is not a register. */
  register(r: string): string | null;
  /** A location the condition reads. */
  location(name: string): void;
  /**
   * Rewrites before the registers are named (AArch64: `fault(P0:l)`); `reads(t, r)` records a
   * register r of thread t that the rewritten condition reads.
   */
  before?(s: string, reads: (t: number, r: string) => string): string;
  /** Rewrites after the locations are named (AArch64: values beyond the machine's integers). */
  after?(s: string): string;
}

/** The final condition in the machine's names and what it reads. */
export interface RewrittenCondition {
  condition: string;
  /** Every name the condition reads (and the `locations` clause shows), in order. */
  observed: string[];
  /** The registers the condition reads, per thread. */
  regs: Map<number, Set<string>>;
}

/**
 * The final condition in the machine's names, for parseCondition: `instr:"..."` -> the value's
 * name, registers `1:W0` -> `1:X0` (the ISA's canonical name), `[x]` -> `x`.
 */
export function rewriteCondition<I>(
  test: TestOf<I>,
  hooks: ConditionHooks,
  fail: Fail,
): RewrittenCondition {
  const observed: string[] = [];
  const regs = new Map<number, Set<string>>();
  const see = (n: string) => {
    if (!observed.includes(n)) observed.push(n);
  };
  let s = test.condition.text.replace(/\s+/g, " ");
  s = s.replace(/instr\s*:\s*"([^"]*)"/g, (_m, t: string) => hooks.insn(t.trim()));
  const reads = (t: number, reg: string): string => {
    const n = `${t}:${reg}`;
    if (t >= test.threads.length)
      fail(`the condition reads ${n}, but there is no thread P${t}`, test.condition);
    if (!regs.has(t)) regs.set(t, new Set());
    regs.get(t)!.add(reg);
    see(n);
    return n;
  };
  if (hooks.before) s = hooks.before(s, reads);
  s = s.replace(/(\d+)\s*:\s*(\w+)/g, (m, th: string, r: string) => {
    const reg = hooks.register(r);
    return reg === null ? m : reads(Number(th), reg);
  });
  s = s.replace(/\[\s*([A-Za-z_]\w*)\s*\]/g, (_m, l: string) => l);
  // Bare location names on the left of "=".
  s = s.replace(/(^|[\s(/\\~])([A-Za-z_]\w*)\s*(!?=)/g, (m, pre: string, l: string, op: string) => {
    if (/^(exists|forall|true|false)$/.test(l)) return m;
    hooks.location(l);
    see(l);
    return `${pre}${l}${op}`;
  });
  if (hooks.after) s = hooks.after(s);
  s = s.replace(/^~\s*exists/, "~exists");
  // The `locations [...]` clause: further names to show.
  for (const l of test.locations) {
    const t = l.trim();
    const m = /^(\d+)\s*:\s*(\w+)$/.exec(t);
    const n = m ? `${m[1]}:${hooks.register(m[2]) ?? m[2]}` : t.replace(/^\[\s*|\s*\]$/g, "");
    if (/^(\d+:)?[A-Za-z_]\w*$/.test(n)) see(n);
  }
  return { condition: s, observed, regs };
}

/** What the shared program layout asks an ISA. */
export interface ProgramHooks<I> {
  /** Blocks to lay out: the thread's own code first, then copies of other threads' code. */
  blocks: number[];
  code(k: number): CodeAt<I>[];
  /** Whether an execution of this thread reaches position p of block k. */
  reached(k: number, p: number): boolean;
  regionAt(k: number, p: number): string | undefined;
  versionsOf(region: string): string[];
  insnOf(version: string): I;
  labelName(k: number, p: number): string;
  /** Ops of instruction i at position p of block k; false when it does not fall through. */
  emit(out: Op[], k: number, p: number, i: I, at: At, text: string): boolean;
  /** A version that only decides where execution continues (a branch, a NOP): where to. */
  jumpOf(i: I, k: number, p: number, at: At): number | null;
  /** The ops of a version that is not an instruction (it faults); null for an instruction. */
  faultOf?(i: I, k: number, p: number, at: At, self: string): Op[] | null;
  /** The text naming a version in errors: "B .+4 (at P1:f)". */
  versionText(region: string, version: string, k: number, p: number): string;
  /** Called at each reached instruction before its ops (AArch64: values folded are lost at joins). */
  enter?(k: number, p: number): void;
  /** End the thread after an instruction whose next position no execution reaches (RISC-V). */
  endUnreached?: boolean;
}

/** The label ending every thread. */
const END = "@end";

/**
 * A thread's program after its initial moves: every reached position gets a label (branch
 * targets, return addresses, dispatch returns); a modifiable instruction is an `exec` of its
 * region's line that continues at a block per version fetched.
 */
export function layoutProgram<I>(h: ProgramHooks<I>): Op[] {
  const ops: Op[] = [];
  const tail: Op[] = [];
  for (const k of h.blocks) {
    h.code(k).forEach((c, p) => {
      // Code no execution of this thread reaches is left out (it would only add states).
      if (!h.reached(k, p)) return;
      ops.push({ op: "label", name: h.labelName(k, p) });
      if (!c.insn) {
        // End of this block's code (or of its fault handler): the thread ends.
        ops.push({ op: "b", target: END });
        return;
      }
      const at = c.insn;
      const region = h.regionAt(k, p);
      h.enter?.(k, p);
      if (!region) {
        if (!h.emit(ops, k, p, at.insn, at, at.text)) return;
        if (h.endUnreached && !h.reached(k, p + 1)) ops.push({ op: "b", target: END });
        return;
      }
      const dispatch: Record<string, string> = {};
      for (const v of h.versionsOf(region)) {
        const i = h.insnOf(v);
        const q = h.jumpOf(i, k, p, at);
        if (q !== null) {
          dispatch[v] = h.labelName(k, q);
          continue;
        }
        const lab = `${h.labelName(k, p)}=${v}`;
        dispatch[v] = lab;
        tail.push({ op: "label", name: lab });
        const fault = h.faultOf?.(i, k, p, at, lab);
        if (fault) {
          tail.push(...fault);
          continue;
        }
        if (h.emit(tail, k, p, i, at, h.versionText(region, v, k, p)))
          tail.push({ op: "b", target: h.labelName(k, p + 1) });
      }
      ops.push({ op: "exec", region, dispatch, pos: posOf(at) });
    });
  }
  ops.push(...tail);
  ops.push({ op: "label", name: END });
  return ops;
}

/** The scenario of a translated test. */
export function specOf<I>(
  test: TestOf<I>,
  parts: Pick<ScenarioSpec, "arch" | "data" | "condition"> & {
    regions: RegionSpec[];
    cpus: CpuSpec[];
  },
): ScenarioSpec {
  return {
    name: test.name,
    arch: parts.arch,
    data: parts.data,
    regions: parts.regions,
    cpus: parts.cpus,
    condition: parts.condition,
    doc: `herd7 litmus test ${test.name} (${test.file})`,
  };
}
