/**
 * Translation of a herd7 AArch64 litmus test into this project's ScenarioSpec, run by the same
 * arm64 machine as every other scenario (no second model):
 *
 * - Every code label some register holds (`0:X1=P1:f`) is a modifiable instruction: a one-line
 *   code region `P1_f` whose versions are the instruction values that can be there (the initial
 *   one first, then every instruction value of the test). Each version has a canonical name with
 *   relative branch targets (`B l0` three instructions ahead is `B_.+12`), so conditions such as
 *   `1:X1=instr:"B .+12"` compare with what LDR read.
 * - Where a thread reaches such a label it executes the region's line (`exec`: fetched through
 *   the pipeline and I-cache like any instruction fetch) and continues at a generated block that
 *   performs the version it fetched, then falls through to the next instruction.
 * - Other instructions become plain ops; BLR/BR through a register whose value is a code label
 *   fixed by the initial state branch to that label (of this thread or of a copy of the other
 *   thread's code); RET branches through the link register.
 * - `MRS CTR_EL0` reads the arch variant's CTR_EL0 (header `CacheType=IDC|DIC` selects
 *   arm64+idc, arm64+dic, arm64+idc+dic); values that do not fit the machine's integers (0..99)
 *   are folded at translation time through RBIT and TST.
 */
import { architectures } from "../arch";
import { ConditionError, parseCondition } from "../scenario/condition";
import type { SourcePos } from "../model";
import type { CpuSpec, Op, Operand, RegionSpec, ScenarioSpec } from "../scenario/spec";
import {
  cmodxKind,
  decodeEncoding,
  decodeInsn,
  insnSymbol,
  insnText,
  type Insn,
  type Op2,
  type Target,
} from "./insn";
import { LitmusError } from "./frame";
import type { InitValue, LitmusTest, LitmusThread } from "./parse";

export interface Translation {
  spec: ScenarioSpec;
  /** Architecture variant chosen from the header's CacheType line. */
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
const MAX_INT = 99n;

/** CTR_EL0 as the model's arm64 variants have it: IminLine = DminLine = 4 (64-byte lines). */
export function ctrEl0(idc: boolean, dic: boolean): bigint {
  return (dic ? 1n << 29n : 0n) | (idc ? 1n << 28n : 0n) | (4n << 16n) | 4n | (1n << 31n);
}

function rbit(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits; i++) if ((v >> BigInt(i)) & 1n) out |= 1n << BigInt(bits - 1 - i);
  return out;
}

/** The scenario region holding the code at label `label` of litmus thread `thread` ("P0_L0"). */
export function regionName(thread: number, label: string): string {
  return `P${thread}_${label}`;
}

/** Arch variant for a CacheType header. */
export function archFor(t: { idc: boolean; dic: boolean }): string {
  return `arm64${t.idc ? "+idc" : ""}${t.dic ? "+dic" : ""}`;
}

export interface TranslateOptions {
  /**
   * Read integers that do not fit the machine (such as `0:X0=0x54000041`) as A64 encodings and
   * decode them (B, BL, B.cond, NOP, ISB, ADD/SUB immediate). Default false: as in herd7's litmus
   * language, an integer is data, not an instruction (instructions are written `instr:"..."`);
   * it can be stored to code, but no execution runs it (herd7 has none either).
   */
  decodeEncodings?: boolean;
  /**
   * The CTR_EL0 cache type, overriding the test's `CacheType=` header (herd7's catalogue keeps
   * such tests in DIC0-IDC0, DIC0-IDC1, DIC1-IDC1 directories).
   */
  cacheType?: { idc: boolean; dic: boolean };
}

/** The value an integer outside the machine's range stands for. */
function bigValue(v: bigint, decode: boolean): Insn {
  return decode ? decodeEncoding(v) : { k: "raw", value: v };
}

/**
 * Translate a parsed herd7 AArch64 litmus test into a scenario of the arm64 model (variant from
 * its CacheType header), with the map back from the scenario's names to the test's.
 * @throws {LitmusError} at file:line:col for an instruction or construct the model lacks, or
 * more than 8 threads.
 */
export function translate(test: LitmusTest, opts: TranslateOptions = {}): Translation {
  const decode = !!opts.decodeEncodings;
  const file = test.file;
  const fail = (msg: string, at: { line: number; column: number }, instruction?: string): never => {
    throw new LitmusError(msg, file, at.line, at.column, instruction);
  };
  const arch = archFor(opts.cacheType ?? test.cacheType);
  const archDef = architectures[arch];
  const nThreads = test.threads.length;
  if (nThreads > 8)
    fail(`at most 8 threads are supported, got ${nThreads}`, { line: 1, column: 1 });

  const labelPos = (th: number, lab: string): number => {
    const code = test.threads[th].code;
    return code.findIndex((p) => p.labels.includes(lab));
  };

  // ---- data locations ----
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

  // ---- code regions: every code label held by a register ----
  const regionOf = new Map<string, { thread: number; label: string; pos: number }>();
  for (const e of test.init) {
    if (e.value?.k !== "label") continue;
    const { thread, label } = e.value;
    if (thread >= nThreads) fail(`P${thread}:${label}: there is no thread P${thread}`, e);
    const pos = labelPos(thread, label);
    if (pos < 0) fail(`P${thread}:${label}: P${thread} has no label "${label}"`, e);
    if (test.threads[thread].code[pos].insn === null)
      fail(
        `P${thread}:${label} labels the end of the program, which holds no instruction`,
        e,
        `P${thread}:${label}`,
      );
    regionOf.set(regionName(thread, label), { thread, label, pos });
  }
  // Code addressed with an immediate offset from a label a register holds ([X1,#4] with
  // X1=P1:m0: the next instruction) is modifiable too.
  test.threads.forEach((th, ti) =>
    th.code.forEach((c) => {
      const i = c.insn?.insn;
      if (!i || (i.k !== "ldr" && i.k !== "str") || !i.off || !("imm" in i.off)) return;
      const off = Number(i.off.imm);
      const v = test.init.find((e) => e.thread === ti && e.name === i.rn)?.value;
      if (off === 0 || v?.k !== "label" || off % 4 !== 0) return;
      const pos = labelPos(v.thread, v.label) + off / 4;
      const code = test.threads[v.thread].code;
      if (pos < 0 || pos >= code.length || !code[pos].insn)
        fail(`P${v.thread}:${v.label}+${off} is not an instruction of P${v.thread}`, c.insn!);
      if ([...regionOf.values()].some((r) => r.thread === v.thread && r.pos === pos)) return;
      const label = `${v.label}.${off}`;
      regionOf.set(regionName(v.thread, label), { thread: v.thread, label, pos });
    }),
  );

  /** Branch target of an instruction at `pos` of thread `th`, as a position. */
  const targetPos = (
    th: number,
    pos: number,
    t: Target,
    at: { line: number; column: number },
  ): number => {
    if ("label" in t) {
      const p = labelPos(th, t.label);
      if (p < 0) fail(`P${th} has no label "${t.label}"`, at);
      return p;
    }
    const p = pos + t.rel / 4;
    if (p < 0 || p >= test.threads[th].code.length)
      fail(`branch ${t.rel >= 0 ? ".+" : ".-"}${Math.abs(t.rel)} leaves P${th}'s code`, at);
    return p;
  };

  /** The instruction with label targets made relative to its position. */
  const relative = (
    th: number,
    pos: number,
    i: Insn,
    at: { line: number; column: number },
  ): Insn => {
    const rel = (t: Target): Target => ({ rel: (targetPos(th, pos, t, at) - pos) * 4 });
    switch (i.k) {
      case "b":
      case "bl":
      case "bcond":
      case "cbz":
      case "cbnz":
        return { ...i, target: rel(i.target) };
      default:
        return i;
    }
  };

  // ---- instruction values ----
  const instructions: Record<string, string> = {};
  const valueInsns: Insn[] = [];
  const addValue = (i: Insn): string => {
    const sym = insnSymbol(i);
    if (!(sym in instructions)) {
      instructions[sym] = insnText(i);
      valueInsns.push(i);
    }
    return sym;
  };
  // Registers whose integer is only ever stored into code (STR Wt,[Xn] with Xn a code label from
  // the initial state): in herd7 the integer is then an instruction encoding, an invalid one
  // unless decoded ("0:X0=0; (*any invalid instruction value*)").
  const codeInts = new Set<string>();
  test.threads.forEach((th, ti) => {
    const initOf = (r: string) => test.init.find((e) => e.thread === ti && e.name === r)?.value;
    const toCode = (i: Insn) => i.k === "str" && initOf(i.rn)?.k === "label";
    for (const c of th.code) {
      const i = c.insn?.insn;
      if (!i || !toCode(i) || i.k !== "str" || initOf(i.rt)?.k !== "int") continue;
      const r = i.rt;
      const used = new RegExp(`\\b[XW]${r.slice(1)}\\b`);
      const other = th.code.some((x) => {
        const y = x.insn?.insn;
        if (!y || (toCode(y) && y.k === "str" && y.rt === r)) return false;
        return used.test(insnText(y)) || writes(y).includes(r);
      });
      if (!other) codeInts.add(`${ti}:${r}`);
    }
  });
  /** An init value as an instruction value (instr:"..." or a raw encoding), or null. */
  const asInsn = (e: { thread: number | null; name: string }, v: InitValue): Insn | null => {
    if (v.k === "instr") return v.insn;
    if (
      v.k === "int" &&
      (v.value < 0n || v.value > MAX_INT || codeInts.has(`${e.thread}:${e.name}`))
    )
      return bigValue(v.value, decode);
    return null;
  };
  for (const e of test.init)
    if (e.value) {
      const i = asInsn(e, e.value);
      if (i) addValue(i);
    }

  const regions: RegionSpec[] = [];
  const regionInfo: Record<string, string> = {};
  for (const [name, r] of regionOf) {
    const p = test.threads[r.thread].code[r.pos].insn!;
    const initial = relative(r.thread, r.pos, p.insn, p);
    const initialSym = insnSymbol(initial);
    if (!(initialSym in instructions)) instructions[initialSym] = insnText(initial);
    const versions = [initialSym, ...valueInsns.map(insnSymbol).filter((s) => s !== initialSym)];
    const insn: Record<string, string> = {};
    for (const v of versions) {
      const i = v === initialSym ? initial : valueInsns.find((x) => insnSymbol(x) === v)!;
      insn[v] = i.k === "raw" ? "code" : cmodxKind(i);
    }
    regions.push({ name, lines: 1, versions, initial: initialSym, insn });
    regionInfo[name] = `P${r.thread}:${r.label}`;
  }
  const insnOf = (sym: string): Insn => {
    const i = valueInsns.find((x) => insnSymbol(x) === sym);
    if (i) return i;
    // An initial instruction of a region (already relative).
    for (const [, r] of regionOf) {
      const p = test.threads[r.thread].code[r.pos].insn!;
      const rel = relative(r.thread, r.pos, p.insn, p);
      if (insnSymbol(rel) === sym) return rel;
    }
    throw new Error(`internal: no instruction ${sym}`);
  };

  // ---- condition ----
  const observed: string[] = [];
  const warnings: string[] = [];
  const condRegs = new Map<number, Set<string>>();
  const condition = rewriteCondition(
    test,
    decode,
    (n) => {
      if (!observed.includes(n)) observed.push(n);
      const m = /^(\d+):(X\d+|F\w*)$/.exec(n);
      if (m) {
        const th = Number(m[1]);
        if (th >= nThreads)
          fail(`the condition reads ${n}, but there is no thread P${th}`, test.condition);
        if (!condRegs.has(th)) condRegs.set(th, new Set());
        condRegs.get(th)!.add(m[2]);
      } else {
        if (!(n in data) && !warnings.some((w) => w.includes(`"${n}"`)))
          warnings.push(
            `the condition reads "${n}", which the initial state does not declare; it reads 0 (herd7 accepts this too)`,
          );
        data[n] ??= 0;
      }
    },
    (text) => {
      const i = decodeInsn(text, (msg, instruction) => fail(msg, test.condition, instruction));
      if ("target" in i && "label" in i.target)
        fail(
          `instruction values in conditions need relative targets (".+n"): "${text}"`,
          test.condition,
        );
      return addValueForCondition(i);
    },
  );
  // A malformed condition is reported now, at the condition, not after the exploration.
  try {
    parseCondition(condition);
  } catch (e) {
    if (!(e instanceof ConditionError)) throw e;
    fail(`final condition: ${e.message.replace(/^\d+:\d+: /, "")}`, test.condition);
  }
  function addValueForCondition(i: Insn): string {
    const sym = insnSymbol(i);
    if (!(sym in instructions)) instructions[sym] = insnText(i);
    return sym;
  }
  for (const l of test.locations) {
    const n = normaliseName(l);
    if (n && !observed.includes(n)) observed.push(n);
  }

  // ---- threads ----
  // Shape of each thread: code with branch targets as positions, initial registers, condition
  // registers. Threads of the same shape get the same label names.
  const shapes = test.threads.map((th, ti) =>
    JSON.stringify(
      [
        th.code.map((c, p) => [
          c.labels.length > 0,
          c.insn ? insnText(relative(ti, p, c.insn.insn, c.insn)) : null,
        ]),
        test.init
          .filter((e) => e.thread === ti)
          .map((e) => [e.name, e.value, e.type])
          .sort(),
        [...(condRegs.get(ti) ?? [])].sort(),
        [...regionOf.values()].filter((r) => r.thread === ti).map((r) => r.pos),
      ],
      (_k, v) => (typeof v === "bigint" ? v.toString() : v),
    ),
  );
  const cpus: CpuSpec[] = test.threads.map((th, ti) =>
    translateThread(test, ti, th, {
      fail,
      regionOf,
      targetPos,
      relative,
      insnOf,
      versionsOf: new Map(regions.map((r) => [r.name, r.versions])),
      data,
      condRegs: condRegs.get(ti) ?? new Set(),
      ctr: ctrEl0(!!archDef?.idc, !!archDef?.dic),
      archInsns: archDef ? Object.keys(archDef.instructions) : [],
      alias: shapes.indexOf(shapes[ti]),
      codeInts,
      entrySyncs: archDef?.exceptions.entrySyncs ?? true,
      returnSyncs: archDef?.exceptions.returnSyncs ?? true,
      decode,
    }),
  );

  const spec: ScenarioSpec = {
    name: test.name,
    arch,
    data,
    regions,
    cpus,
    condition,
    doc: `herd7 litmus test ${test.name} (${file})`,
  };
  return { spec, arch, condition, instructions, regions: regionInfo, observed, warnings };
}

/** The register recording a fault (at a label): "F" (any), "F_l1" (at l1). */
export function faultReg(label?: string): string {
  return label ? `F_${label.replace(/\W/g, "_")}` : "F";
}

/** "1:W0" -> "1:X0", "[x]" -> "x"; null when not a name. */
function normaliseName(n: string): string | null {
  const t = n.trim();
  const m = /^(\d+)\s*:\s*([WwXx]\d+)$/.exec(t);
  if (m) return `${m[1]}:X${Number(m[2].slice(1))}`;
  const l = /^\[?\s*([A-Za-z_]\w*)\s*\]?$/.exec(t);
  return l ? l[1] : null;
}

/**
 * Rewrites a herd7 condition for parseCondition: `instr:"B .+4"` -> the value's name, registers
 * W/X -> X, `[x]` -> x. `name` is called for every register or location read.
 */
function rewriteCondition(
  test: LitmusTest,
  decode: boolean,
  name: (n: string) => void,
  insn: (text: string) => string,
): string {
  let s = test.condition.text.replace(/\s+/g, " ");
  s = s.replace(/instr\s*:\s*"([^"]*)"/g, (_m, t: string) => insn(t.trim()));
  // fault(P0:l) / fault(P0:l,x) / fault(P0) / fault(P0,x): a fault taken by P0 (at l). Only
  // instruction faults exist without page tables, so a fault on a data location never happens.
  s = s.replace(
    /fault\s*\(\s*P(\d+)\s*(?::\s*([A-Za-z_][\w.]*))?\s*(?:,\s*([^)]*?))?\s*\)/g,
    (_m, th: string, lab: string | undefined, loc: string | undefined) => {
      if (loc !== undefined && loc.trim() !== "" && !/^P\d+\s*:/.test(loc.trim())) return "false";
      const r = `${th}:${faultReg(lab)}`;
      name(r);
      return `${r}=1`;
    },
  );
  s = s.replace(/(\d+)\s*:\s*([WwXx])(\d+)/g, (_m, th: string, _w: string, n: string) => {
    const r = `${th}:X${Number(n)}`;
    name(r);
    return r;
  });
  s = s.replace(/\[\s*([A-Za-z_]\w*)\s*\]/g, (_m, l: string) => {
    name(l);
    return l;
  });
  // Bare location names on the left of "=".
  s = s.replace(/(^|[\s(/\\~])([A-Za-z_]\w*)\s*(!?=)/g, (m, pre: string, l: string, op: string) => {
    if (/^(exists|forall|true|false)$/.test(l)) return m;
    name(l);
    return `${pre}${l}${op}`;
  });
  // Hexadecimal values.
  s = s.replace(/=\s*(0x[0-9a-fA-F]+|\d+)\b/g, (_m, n: string) => {
    const v = BigInt(n);
    return `=${v <= MAX_INT ? v.toString() : insnSymbol(bigValue(v, decode))}`;
  });
  return s.replace(/^~\s*exists/, "~exists");
}

interface ThreadCtx {
  fail: (msg: string, at: { line: number; column: number }, instruction?: string) => never;
  regionOf: Map<string, { thread: number; label: string; pos: number }>;
  targetPos: (th: number, pos: number, t: Target, at: { line: number; column: number }) => number;
  relative: (th: number, pos: number, i: Insn, at: { line: number; column: number }) => Insn;
  insnOf: (sym: string) => Insn;
  versionsOf: Map<string, string[]>;
  data: Record<string, number>;
  condRegs: Set<string>;
  ctr: bigint;
  archInsns: string[];
  /** An earlier thread with the same code and initial state (label names are taken from it). */
  alias: number;
  /** "thread:register" whose integer initial value is an instruction encoding stored to code. */
  codeInts: Set<string>;
  /** Exception entry and return are context synchronising (the arch's exception rules). */
  entrySyncs: boolean;
  returnSyncs: boolean;
  decode: boolean;
}

/**
 * Drops what has no effect and only adds steps (each step multiplies interleavings): initial
 * moves of 0 (registers start at 0) or of registers no later op reads and the condition does not
 * observe, and a `b` to the label that follows it.
 */
function simplify(ops: Op[], nInit: number, condRegs: Set<string>): Op[] {
  const reads = new Set<string>();
  const mentioned = new Set<string>();
  const opnd = (o: Operand) => {
    if ("reg" in o) reads.add(o.reg);
  };
  for (const o of ops.slice(nInit)) {
    switch (o.op) {
      case "mov":
        opnd(o.src);
        mentioned.add(o.dst);
        break;
      case "alu":
        reads.add(o.a);
        opnd(o.b);
        mentioned.add(o.dst);
        break;
      case "cmp":
      case "tst":
        reads.add(o.a);
        opnd(o.b);
        break;
      case "cset":
        mentioned.add(o.dst);
        break;
      case "ldr":
        reads.add(o.addr);
        mentioned.add(o.dst);
        break;
      case "str":
        reads.add(o.src);
        reads.add(o.addr);
        break;
      case "cbz":
      case "cbnz":
        reads.add(o.reg);
        break;
      case "bl":
        mentioned.add(o.link);
        break;
      case "br":
        reads.add(o.reg);
        if (o.link) mentioned.add(o.link);
        break;
      case "insn-reg":
        reads.add(o.addr);
        break;
    }
  }
  for (const r of reads) mentioned.add(r);
  const init = ops.slice(0, nInit).filter((o) => {
    if (o.op !== "mov") return true;
    const zero = "imm" in o.src && o.src.imm === 0;
    if (condRegs.has(o.dst)) return !zero || !mentioned.has(o.dst);
    return reads.has(o.dst) && !zero;
  });
  const body = ops.slice(nInit).filter((o, i, all) => {
    if (o.op !== "b") return true;
    for (let j = i + 1; j < all.length && all[j].op === "label"; j++)
      if ((all[j] as { name: string }).name === o.target) return false;
    return true;
  });
  return [...init, ...body];
}

/** Registers an instruction writes. */
function writes(i: Insn): string[] {
  switch (i.k) {
    case "ldr":
      return [i.rt];
    case "mov":
    case "alu":
    case "cset":
    case "mrs":
    case "rbit":
    case "adr":
      return [i.rd];
    case "msr":
      return ["ELR"];
    case "bl":
    case "blr":
      return ["X30"];
    default:
      return [];
  }
}

function translateThread(test: LitmusTest, ti: number, th: LitmusThread, ctx: ThreadCtx): CpuSpec {
  const { fail } = ctx;
  const ops: Op[] = [];
  const initOf = new Map<string, { value: InitValue; at: { line: number; column: number } }>();
  for (const e of test.init)
    if (e.thread === ti && e.value) initOf.set(e.name, { value: e.value, at: e });

  // Which registers may have been written before each position (k = whose code, p = position),
  // over the control flow from the thread's start: BLR/BR through a register not yet written
  // go to the code label the initial state put there (into a copy of the other thread's code).
  const key = (k: number, p: number) => `${k}:${p}`;
  const before = new Map<string, Set<string>>();
  const insnsAt = (k: number, p: number): Insn[] => {
    const c = test.threads[k].code[p];
    if (!c.insn) return [];
    const region = regionAt(k, p);
    return region ? (ctx.versionsOf.get(region) ?? []).map(ctx.insnOf) : [c.insn.insn];
  };
  const regionAt = (k: number, p: number): string | undefined => {
    for (const [name, r] of ctx.regionOf) if (r.thread === k && r.pos === p) return name;
    return undefined;
  };
  const labelTarget = (v: InitValue | null | undefined): [number, number] | null => {
    if (v?.k !== "label") return null;
    return [v.thread, test.threads[v.thread].code.findIndex((c) => c.labels.includes(v.label))];
  };
  const returns = new Set<string>();
  /** Positions reached by a branch (not only by falling through): where folded values are lost. */
  const joins = new Set<string>();
  for (let nReturns = -1; nReturns !== returns.size;) {
    nReturns = returns.size;
    before.clear();
    const work: [number, number, Set<string>][] = [[ti, 0, new Set()]];
    // The fault handler may be entered after any instruction: every register may be written.
    if (th.handlerStart !== undefined) {
      const all = new Set<string>(["ELR"]);
      for (const c of th.code) if (c.insn) for (const r of writes(c.insn.insn)) all.add(r);
      work.push([ti, th.handlerStart, all]);
    }
    while (work.length) {
      const [k, p, inSet] = work.pop()!;
      const cur = before.get(key(k, p));
      if (cur && [...inSet].every((r) => cur.has(r))) continue;
      const merged = new Set([...(cur ?? []), ...inSet]);
      before.set(key(k, p), merged);
      const at = test.threads[k].code[p].insn;
      for (const i of insnsAt(k, p)) {
        const out = new Set([...merged, ...writes(i)]);
        const to = (q: number, kk = k) => {
          if (kk !== k || q !== p + 1) joins.add(key(kk, q));
          work.push([kk, q, out]);
        };
        const tgt = (t: Target) => ctx.targetPos(k, p, t, at!);
        switch (i.k) {
          case "b":
            to(tgt(i.target));
            break;
          case "bcond":
          case "cbz":
          case "cbnz":
            to(tgt(i.target));
            to(p + 1);
            break;
          case "bl":
            to(tgt(i.target));
            returns.add(key(k, p + 1));
            break;
          case "blr":
          case "br": {
            const t = merged.has(i.rn) ? null : labelTarget(initOf.get(i.rn)?.value);
            if (t) to(t[1], t[0]);
            if (i.k === "blr") returns.add(key(k, p + 1));
            break;
          }
          case "ret":
            for (const r of returns) {
              const [kk, q] = r.split(":").map(Number);
              to(q, kk);
            }
            break;
          case "raw":
          case "udf":
          case "eret":
            // A fault goes to the handler, ERET to ELR_EL1 (a label ADR put there): the
            // handler's entry above and the positions ADR names cover both.
            break;
          case "adr":
            to(tgt(i.target));
            to(p + 1);
            break;
          default:
            to(p + 1);
        }
      }
    }
  }
  const blocks = [ti];
  for (const kp of before.keys()) {
    const k = Number(kp.split(":")[0]);
    if (!blocks.includes(k)) blocks.push(k);
  }
  /** Value of a register at a position, when the initial state fixes it there. */
  const staticValue = (r: string, k: number, p: number): InitValue | null =>
    before.get(key(k, p))?.has(r) ? null : (initOf.get(r)?.value ?? null);

  const labelName = (k: number, pos: number): string => {
    // A thread with the same code as an earlier one uses its label names, so that both compile
    // to the same program and the explorer's symmetry reduction applies.
    const code = test.threads[k === ti ? ctx.alias : k].code;
    const own = code[pos].labels[0] ?? `@${pos}`;
    return k === ti ? own : `P${k}.${own}`;
  };
  const END = "@end";
  const pos = (at: { line: number; column: number }): SourcePos => ({
    line: at.line,
    column: at.column,
  });

  // Initial registers (thread-local moves at the start).
  const operandOf = (v: InitValue, at: { line: number; column: number }, reg: string): Operand => {
    switch (v.k) {
      case "int":
        if (v.value >= 0n && v.value <= MAX_INT && !ctx.codeInts.has(`${ti}:${reg}`))
          return { imm: Number(v.value) };
        return { insn: insnSymbol(bigValue(v.value, ctx.decode)) };
      case "loc":
        return { addr: v.name };
      case "label":
        return { addr: regionName(v.thread, v.label) };
      case "instr":
        return { insn: insnSymbol(v.insn) };
    }
    return fail(`${ti}:${reg}: unsupported initial value`, at);
  };
  for (const [r, { value, at }] of initOf)
    ops.push({ op: "mov", dst: r, src: operandOf(value, at, r), pos: pos(at) });
  // Registers the condition reads start at 0 (herd7's default) so that they exist.
  for (const r of ctx.condRegs)
    if (!initOf.has(r)) ops.push({ op: "mov", dst: r, src: { imm: 0 } });
  const nInit = ops.length;

  // Values known at translation time that do not fit a register (CTR_EL0 through RBIT).
  const big = new Map<string, bigint>();
  const regOperand = (r: string, at: { line: number; column: number }, text: string): string => {
    if (r === "XZR") fail(`XZR as an operand is not supported: "${text}"`, at, text);
    if (big.has(r))
      fail(
        `${r} holds 0x${big.get(r)!.toString(16)}, which the machine's registers (0..99) cannot hold: "${text}"`,
        at,
        text,
      );
    return r;
  };
  const op2 = (o: Op2, at: { line: number; column: number }, text: string, out?: Op[]): Operand => {
    if ("reg" in o) {
      const r = regOperand(o.reg, at, text);
      // SXTW/UXTW leave the machine's small non-negative integers and addresses unchanged;
      // LSL #n doubles n times.
      if (!o.shift) return { reg: r };
      if (!out) return fail(`a shifted operand is not supported here: "${text}"`, at, text);
      const t = `A${tmp++ % 2}`;
      out.push({ op: "mov", dst: t, src: { reg: r }, pos: pos(at) });
      for (let n = 0; n < o.shift; n++)
        out.push({ op: "alu", fn: "add", dst: t, a: t, b: { reg: t }, pos: pos(at) });
      return { reg: t };
    }
    if (o.imm < 0n || o.imm > MAX_INT)
      fail(`immediate #${o.imm} is outside the machine's integers 0..99: "${text}"`, at, text);
    return { imm: Number(o.imm) };
  };
  let tmp = 0;

  /** Ops of instruction i at position p of block k (branch targets resolved in k). */
  const emit = (
    out: Op[],
    k: number,
    p: number,
    i: Insn,
    at: { line: number; column: number },
    text: string,
  ): boolean /* falls through */ => {
    const P = pos(at);
    const tgt = (t: Target) => labelName(k, ctx.targetPos(k, p, t, at));
    const address = (rn: string, off: Op2 | null): string => {
      regOperand(rn, at, text);
      if (!off) return rn;
      if ("imm" in off && off.imm === 0n) return rn;
      if ("imm" in off) {
        // [Xn,#4k] with Xn holding a code label: the instruction k positions after it.
        const v = staticValue(rn, k, p);
        const n = Number(off.imm);
        const target =
          v?.k === "label"
            ? [...ctx.regionOf].find(
                ([, r]) =>
                  r.thread === v.thread &&
                  r.pos ===
                    test.threads[v.thread].code.findIndex((c) => c.labels.includes(v.label)) +
                      n / 4,
              )
            : undefined;
        if (!target || n % 4 !== 0)
          return fail(
            `an immediate offset other than #0 is supported only from a code label a register holds from the initial state (the instruction #n bytes after it): "${text}"`,
            at,
            text,
          );
        const t = `A${tmp++ % 2}`;
        out.push({ op: "mov", dst: t, src: { addr: target[0] }, pos: P });
        return t;
      }
      const b = op2(off, at, text, out);
      const t = `A${tmp++ % 2}`;
      out.push({ op: "alu", fn: "add", dst: t, a: rn, b, pos: P });
      return t;
    };
    const known = "rn" in i ? big.get(i.rn) : undefined;
    for (const r of writes(i)) big.delete(r);
    switch (i.k) {
      case "ldr":
        out.push({
          op: "ldr",
          dst: i.rt,
          addr: address(i.rn, i.off),
          acquire: i.acquire || undefined,
          pos: P,
        });
        return true;
      case "str":
        out.push({
          op: "str",
          src: regOperand(i.rt, at, text),
          addr: address(i.rn, i.off),
          release: i.release || undefined,
          pos: P,
        });
        return true;
      case "mov":
        out.push({ op: "mov", dst: i.rd, src: op2(i.src, at, text), pos: P });
        return true;
      case "alu":
        out.push({
          op: "alu",
          fn: i.fn,
          dst: i.rd,
          a: regOperand(i.rn, at, text),
          b: op2(i.op2, at, text, out),
          pos: P,
        });
        return true;
      case "cmp":
      case "tst": {
        if (known !== undefined && i.k === "tst" && "imm" in i.op2) {
          // Fold: Z (and N) of the 64-bit TST, reproduced on small values.
          const r = known & i.op2.imm;
          if (r >> 63n) fail(`TST with bit 63 set cannot be folded: "${text}"`, at, text);
          const t = `A${tmp++ % 2}`;
          out.push({ op: "mov", dst: t, src: { imm: r === 0n ? 0 : 1 }, pos: P });
          out.push({ op: "tst", a: t, b: { imm: 1 }, pos: P });
          return true;
        }
        out.push({
          op: i.k,
          a: regOperand(i.rn, at, text),
          b: op2(i.op2, at, text, out),
          pos: P,
        });
        return true;
      }
      case "cset":
        out.push({ op: "cset", dst: i.rd, cond: i.cond, pos: P });
        return true;
      case "cbz":
      case "cbnz":
        out.push({ op: i.k, reg: regOperand(i.rt, at, text), target: tgt(i.target), pos: P });
        return true;
      case "b":
        out.push({ op: "b", target: tgt(i.target), pos: P });
        return false;
      case "bcond":
        out.push({ op: "bcond", cond: i.cond, target: tgt(i.target), pos: P });
        return true;
      case "bl":
        out.push({ op: "bl", target: tgt(i.target), link: "X30", pos: P });
        return true;
      case "blr":
      case "br": {
        const v = staticValue(i.rn, k, p);
        if (v?.k !== "label")
          return fail(
            `${i.k.toUpperCase()} ${i.rn}: the target must be a code label held by ${i.rn} from the initial state (and never written)`,
            at,
            text,
          );
        const target = labelName(
          v.thread,
          test.threads[v.thread].code.findIndex((c) => c.labels.includes(v.label)),
        );
        if (i.k === "blr") out.push({ op: "bl", target, link: "X30", pos: P });
        else out.push({ op: "b", target, pos: P });
        return i.k === "blr";
      }
      case "ret":
        out.push({ op: "br", reg: regOperand(i.rn, at, text), pos: P });
        return false;
      case "nop":
        return true;
      case "isb":
        out.push({ op: "insn", name: "ISB", pos: P });
        return true;
      case "barrier": {
        out.push({ op: "insn", name: barrierName(i.kind, i.option, ctx.archInsns), pos: P });
        return true;
      }
      case "cache":
        if (!ctx.archInsns.includes(i.name)) fail(`${i.name} is not modelled`, at, text);
        out.push({ op: "insn-reg", name: i.name, addr: regOperand(i.rt, at, text), pos: P });
        return true;
      case "cacheall":
        if (!ctx.archInsns.includes(i.name)) fail(`${i.name} is not modelled`, at, text);
        out.push({ op: "insn", name: i.name, pos: P });
        return true;
      case "mrs":
        big.set(i.rd, ctx.ctr);
        if (ctx.ctr <= MAX_INT) {
          big.delete(i.rd);
          out.push({ op: "mov", dst: i.rd, src: { imm: Number(ctx.ctr) }, pos: P });
        }
        return true;
      case "rbit": {
        const v = known;
        if (v === undefined)
          return fail(
            `RBIT of a value not known at translation time is not supported: "${text}"`,
            at,
            text,
          );
        const wide = /^\s*RBIT\s+X/i.test(text);
        const r = rbit(wide ? v : v & 0xffffffffn, wide ? 64 : 32);
        if (r <= MAX_INT) {
          out.push({ op: "mov", dst: i.rd, src: { imm: Number(r) }, pos: P });
        } else big.set(i.rd, r);
        return true;
      }
      case "raw":
      case "udf":
        // Executing it takes an exception (an invalid instruction value, or UDF).
        out.push(...faultEntry(k, p, P));
        return false;
      case "adr":
        out.push({ op: "mov", dst: i.rd, src: { label: tgt(i.target) }, pos: P });
        return true;
      case "msr":
        out.push({ op: "mov", dst: "ELR", src: { reg: regOperand(i.rn, at, text) }, pos: P });
        return true;
      case "eret":
        // Exception return: context synchronising unless FEAT_ExS says otherwise (arch data).
        if (ctx.returnSyncs) out.push({ op: "insn", name: "ISB", pos: P });
        out.push({ op: "br", reg: "ELR", pos: P });
        return false;
    }
  };

  /**
   * Taking an exception at position p of block k: with a fault handler (a `Pn.F` column), record
   * the fault (for fault(...) conditions), set ELR_EL1 to the faulting instruction, synchronise
   * (exception entry, arch data) and run the handler; without one, no execution continues (as
   * in herd7, the test has no final state through this path).
   */
  function faultEntry(k: number, p: number, P: SourcePos | undefined): Op[] {
    const here = labelName(k, p);
    if (th.handlerStart === undefined) return [{ op: "b", target: here, pos: P }];
    const label = test.threads[k].code[p].labels[0];
    const ops: Op[] = [];
    // Only the fault registers the condition reads (each register is state).
    for (const r of [faultReg(), ...(label ? [faultReg(label)] : [])])
      if (ctx.condRegs.has(r)) ops.push({ op: "mov", dst: r, src: { imm: 1 }, pos: P });
    ops.push({ op: "mov", dst: "ELR", src: { label: here }, pos: P });
    if (ctx.entrySyncs) ops.push({ op: "insn", name: "ISB", pos: P });
    ops.push({ op: "b", target: labelName(ti, th.handlerStart), pos: P });
    return ops;
  }

  const tail: Op[] = [];
  for (const k of blocks) {
    const code = test.threads[k].code;
    // Every position gets a label (branch targets, RET addresses of copies, dispatch returns).
    code.forEach((c, p) => {
      // Code no execution of this thread reaches is left out (it would only add states).
      if (!before.has(key(k, p))) return;
      ops.push({ op: "label", name: labelName(k, p) });
      if (!c.insn) {
        // End of this block's code (or of its fault handler): the thread ends.
        ops.push({ op: "b", target: END });
        return;
      }
      const li = c.insn!;
      const region = [...ctx.regionOf].find(([, r]) => r.thread === k && r.pos === p)?.[0];
      if (joins.has(key(k, p))) big.clear(); // values known by folding are lost at joins
      if (region) {
        const dispatch: Record<string, string> = {};
        const versions = ctx.versionsOf.get(region) ?? [];
        for (const v of versions) {
          const lab = `${labelName(k, p)}=${v}`;
          const ins = ctx.insnOf(v);
          // A B or a NOP only decides where execution continues: dispatch straight there.
          if (ins.k === "b" || ins.k === "nop") {
            const q = ins.k === "b" ? ctx.targetPos(k, p, ins.target, li) : p + 1;
            dispatch[v] = labelName(k, q);
            continue;
          }
          dispatch[v] = lab;
          tail.push({ op: "label", name: lab });
          if (ins.k === "raw" || ins.k === "udf") {
            // Not an instruction: it faults (to the handler, or no execution continues).
            const f = faultEntry(k, p, pos(li));
            if (th.handlerStart === undefined) tail.push({ op: "b", target: lab });
            else tail.push(...f);
            continue;
          }
          const falls = emit(tail, k, p, ins, li, `${instrTextOf(v)} (at ${regionLabel(region)})`);
          if (falls) tail.push({ op: "b", target: labelName(k, p + 1) });
        }
        ops.push({ op: "exec", region, dispatch, pos: pos(li) });
        return;
      }
      emit(ops, k, p, li.insn, li, li.text);
    });
  }
  ops.push(...tail);
  ops.push({ op: "label", name: END });
  return { program: simplify(ops, nInit, ctx.condRegs) };

  function regionLabel(region: string): string {
    const r = ctx.regionOf.get(region)!;
    return `P${r.thread}:${r.label}`;
  }
  function instrTextOf(v: string): string {
    return insnText(ctx.insnOf(v));
  }
}

/** The arch instruction name for a DMB/DSB with an option (herd7 ignores domains). */
function barrierName(kind: "DMB" | "DSB", option: string, known: string[]): string {
  const exact = `${kind} ${option}`;
  if (known.includes(exact)) return exact;
  const st = option.endsWith("ST");
  const ld = option.endsWith("LD");
  if (kind === "DMB") return st ? "DMB ISHST" : ld ? "DMB ISHLD" : "DMB SY";
  return st ? "DSB ISHST" : "DSB SY";
}
