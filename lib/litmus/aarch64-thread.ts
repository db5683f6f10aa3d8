/**
 * One thread of an AArch64 litmus test as a machine program (translate.ts): the control flow
 * from the thread's start (which registers may be written before each position, so that BLR/BR
 * through a register still holding the initial state's code label go there, into a copy of the
 * other thread's code), its initial moves, and the shared layout (translation.ts) of its
 * instructions through the AArch64 emitter.
 */
import type { CpuSpec, Op, Operand } from "../scenario/spec";
import type { At, Fail } from "./frame";
import { insnSymbol, insnText, type Insn, type Target } from "./insn";
import type { InitValue, LitmusTest, LitmusThread } from "./parse";
import { aarch64Emitter, writes } from "./aarch64-emit";
import { initOperand, layoutProgram, MAX_INT, posOf, type LabelRegion } from "./translation";

/** What translate() knows of the whole test that a thread's translation needs. */
export interface ThreadCtx {
  fail: Fail;
  regionOf: Map<string, LabelRegion>;
  targetPos: (th: number, pos: number, t: Target, at: At) => number;
  insnOf: (sym: string) => Insn;
  versionsOf: Map<string, string[]>;
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
  /** The instruction an integer beyond the machine's range stands for. */
  bigValue: (v: bigint) => Insn;
}

/** The program of thread `ti`. */
export function translateThread(
  test: LitmusTest,
  ti: number,
  th: LitmusThread,
  ctx: ThreadCtx,
): CpuSpec {
  const { fail } = ctx;
  const ops: Op[] = [];
  const initOf = new Map<string, { value: InitValue; at: At }>();
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

  // Initial registers (thread-local moves at the start).
  // An integer beyond the machine's range, or stored into code, is an instruction encoding.
  const operandOf = (v: InitValue, reg: string): Operand =>
    v.k !== "int"
      ? initOperand(v, insnSymbol)
      : v.value >= 0n && v.value <= MAX_INT && !ctx.codeInts.has(`${ti}:${reg}`)
        ? { imm: Number(v.value) }
        : { insn: insnSymbol(ctx.bigValue(v.value)) };
  for (const [r, { value, at }] of initOf)
    ops.push({ op: "mov", dst: r, src: operandOf(value, r), pos: posOf(at) });
  // Registers the condition reads start at 0 (herd7's default) so that they exist.
  for (const r of ctx.condRegs)
    if (!initOf.has(r)) ops.push({ op: "mov", dst: r, src: { imm: 0 } });
  const nInit = ops.length;

  const emitter = aarch64Emitter({
    test,
    ti,
    th,
    fail,
    regionOf: ctx.regionOf,
    targetPos: ctx.targetPos,
    labelName,
    staticValue,
    condRegs: ctx.condRegs,
    ctr: ctx.ctr,
    archInsns: ctx.archInsns,
    entrySyncs: ctx.entrySyncs,
    returnSyncs: ctx.returnSyncs,
  });
  ops.push(
    ...layoutProgram<Insn>({
      blocks,
      code: (k) => test.threads[k].code,
      reached: (k, p) => before.has(key(k, p)),
      regionAt,
      versionsOf: (region) => ctx.versionsOf.get(region) ?? [],
      insnOf: ctx.insnOf,
      labelName,
      emit: emitter.emit,
      // A B or a NOP only decides where execution continues: dispatch straight there.
      jumpOf: (i, k, p, at) =>
        i.k === "b" ? ctx.targetPos(k, p, i.target, at) : i.k === "nop" ? p + 1 : null,
      // Not an instruction: it faults (to the handler, or no execution continues).
      faultOf: (i, k, p, at, self) => {
        if (i.k !== "raw" && i.k !== "udf") return null;
        const f = emitter.faultEntry(k, p, posOf(at));
        return th.handlerStart === undefined ? [{ op: "b", target: self }] : f;
      },
      versionText: (region, v) => {
        const r = ctx.regionOf.get(region)!;
        return `${insnText(ctx.insnOf(v))} (at P${r.thread}:${r.label})`;
      },
      enter: (k, p) => {
        if (joins.has(key(k, p))) emitter.forget(); // values known by folding are lost at joins
      },
    }),
  );
  return { program: simplify(ops, nInit, ctx.condRegs) };
}

/** The registers an operation reads and the ones it writes (undefined: none there). */
function regUse(o: Op): [reads: (string | undefined)[], writes: (string | undefined)[]] {
  const opnd = (x: Operand) => ("reg" in x ? x.reg : undefined);
  switch (o.op) {
    case "mov":
      return [[opnd(o.src)], [o.dst]];
    case "alu":
      return [[o.a, opnd(o.b)], [o.dst]];
    case "cmp":
    case "tst":
      return [[o.a, opnd(o.b)], []];
    case "cset":
      return [[], [o.dst]];
    case "ldr":
      return [[o.addr], [o.dst]];
    case "str":
      return [[o.src, o.addr], []];
    case "cbz":
    case "cbnz":
      return [[o.reg], []];
    case "bl":
      return [[], [o.link]];
    case "br":
      return [[o.reg], [o.link]];
    case "insn-reg":
      return [[o.addr], []];
    default:
      return [[], []];
  }
}

/**
 * Drops what has no effect and only adds steps (each step multiplies interleavings): initial
 * moves of 0 (registers start at 0) or of registers no later op reads and the condition does not
 * observe, and a `b` to the label that follows it.
 */
function simplify(ops: Op[], nInit: number, condRegs: Set<string>): Op[] {
  const reads = new Set<string>();
  const mentioned = new Set<string>();
  for (const o of ops.slice(nInit)) {
    const [r, w] = regUse(o);
    for (const x of r) if (x) reads.add(x);
    for (const x of w) if (x) mentioned.add(x);
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
