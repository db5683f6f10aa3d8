/**
 * AArch64 instructions as the machine's ops, for translate.ts: loads and stores (with address
 * arithmetic into scratch registers A0/A1), ALU, branches, barriers and cache maintenance as the
 * arch's instructions, MRS CTR_EL0 and RBIT folded at translation time, exceptions (UDF, invalid
 * instruction values) into the thread's fault handler.
 */
import type { SourcePos } from "../model";
import type { Op, Operand } from "../scenario/spec";
import type { At, Fail } from "./frame";
import type { Insn, Op2, Target } from "./insn";
import type { InitValue, LitmusTest, LitmusThread } from "./parse";
import { MAX_INT, posOf, type LabelRegion } from "./translation";

/** What the emitter of one thread needs to know. */
export interface EmitEnv {
  test: LitmusTest;
  /** The thread translated, and its litmus thread. */
  ti: number;
  th: LitmusThread;
  fail: Fail;
  regionOf: Map<string, LabelRegion>;
  targetPos: (th: number, pos: number, t: Target, at: At) => number;
  labelName: (k: number, p: number) => string;
  /** Value of a register at a position, when the initial state fixes it there. */
  staticValue: (r: string, k: number, p: number) => InitValue | null;
  condRegs: Set<string>;
  ctr: bigint;
  archInsns: string[];
  /** Exception entry and return are context synchronising (the arch's exception rules). */
  entrySyncs: boolean;
  returnSyncs: boolean;
}

/** The register recording a fault (at a label): "F" (any), "F_l1" (at l1). */
export function faultReg(label?: string): string {
  return label ? `F_${label.replace(/\W/g, "_")}` : "F";
}

/** The ops of one thread's AArch64 instructions; `forget()` drops values folded so far. */
export function aarch64Emitter(env: EmitEnv) {
  const { test, ti, th, fail, labelName, staticValue } = env;
  const ctx = env;
  const pos = posOf;
  // Values known at translation time that do not fit a register (CTR_EL0 through RBIT).
  const big = new Map<string, bigint>();
  const regOperand = (r: string, at: At, text: string): string => {
    if (r === "XZR") fail(`XZR as an operand is not supported: "${text}"`, at, text);
    if (big.has(r))
      fail(
        `${r} holds 0x${big.get(r)!.toString(16)}, which the machine's registers (0..99) cannot hold: "${text}"`,
        at,
        text,
      );
    return r;
  };
  const op2 = (o: Op2, at: At, text: string, out?: Op[]): Operand => {
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
    at: At,
    text: string,
  ): boolean /* falls through */ => {
    const P = pos(at);
    /** An instruction of the architecture's table at this position; it falls through. */
    const insn = (name: string): true => {
      out.push({ op: "insn", name, pos: P });
      return true;
    };
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
        return insn("ISB");
      case "barrier":
        return insn(barrierName(i.kind, i.option, ctx.archInsns));
      case "cache":
        if (!ctx.archInsns.includes(i.name)) fail(`${i.name} is not modelled`, at, text);
        out.push({ op: "insn-reg", name: i.name, addr: regOperand(i.rt, at, text), pos: P });
        return true;
      case "cacheall":
        if (!ctx.archInsns.includes(i.name)) fail(`${i.name} is not modelled`, at, text);
        return insn(i.name);
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

  return { emit, faultEntry, forget: () => big.clear() };
}

function rbit(v: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits; i++) if ((v >> BigInt(i)) & 1n) out |= 1n << BigInt(bits - 1 - i);
  return out;
}

/** Registers an instruction writes. */
export function writes(i: Insn): string[] {
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

/** The arch instruction name for a DMB/DSB with an option (herd7 ignores domains). */
function barrierName(kind: "DMB" | "DSB", option: string, known: string[]): string {
  const exact = `${kind} ${option}`;
  if (known.includes(exact)) return exact;
  const st = option.endsWith("ST");
  const ld = option.endsWith("LD");
  if (kind === "DMB") return st ? "DMB ISHST" : ld ? "DMB ISHLD" : "DMB SY";
  return st ? "DSB ISHST" : "DSB SY";
}
