/**
 * Instruction-level steps (the litmus front-ends: AArch64, RISC-V, x86): registers, ALU,
 * flags and condition codes, loads and stores through address registers, branches.
 */
import { Ipis } from "./ipi";
import { F } from "./state";
import { E, type AluFn, type Step } from "./layout/types";
import { SYMBOL_BASE, type ValueSymbol } from "./layout/encoding";

export abstract class Instructions extends Ipis {
  /** Registers a step reads and writes (instruction-level steps). */
  protected regsOf(c: number, st: Step): { reads: number[]; writes: number[] } {
    const f = this.layout.cpus[c].flagsReg;
    const r = (...xs: number[]) => xs.filter((x) => x >= 0);
    switch (st.k) {
      case "mov":
        return { reads: r(st.src), writes: r(st.dst) };
      case "alu":
        return { reads: r(st.a, st.b), writes: r(st.dst) };
      case "flags":
        return { reads: r(st.a, st.b), writes: r(f) };
      case "cset":
        return { reads: r(f), writes: r(st.dst) };
      case "ldr":
        return { reads: r(st.addr), writes: r(st.dst) };
      case "str":
        return { reads: r(st.src, st.addr), writes: [] };
      case "jump": {
        const reads = st.when === "always" ? [] : st.when.startsWith("cb") ? r(st.reg) : r(f);
        return { reads, writes: r(st.link) };
      }
      case "br":
        return { reads: r(st.reg), writes: r(st.link) };
      case "effect-reg":
        return { reads: r(st.addr), writes: [] };
      default:
        return { reads: [], writes: [] };
    }
  }

  /**
   * While a late fetch is pending, what it executed may not reach memory or steer the CPU:
   * a step reading a register written since then waits, unless it only moves values between
   * registers (those stay tainted). Returns false when the step must wait.
   */
  protected lateFetchAllows(t: Uint8Array, c: number, st: Step): boolean {
    const b = this.base(c);
    if (t[b + F.PROPH] === 0) return true;
    const taint = t[b + F.TAINT] | (t[b + F.TAINT + 1] << 8);
    const { reads, writes } = this.regsOf(c, st);
    const tainted = reads.some((x) => taint & (1 << x));
    const local = st.k === "mov" || st.k === "alu" || st.k === "flags" || st.k === "cset";
    if (tainted && !local) return false;
    let m = taint;
    for (const w of writes) m |= 1 << w;
    t[b + F.TAINT] = m & 255;
    t[b + F.TAINT + 1] = m >> 8;
    return true;
  }

  protected symbolAt(v: number, where: string): ValueSymbol {
    const sym = this.layout.symbols[v - SYMBOL_BASE];
    if (v < SYMBOL_BASE || !sym) throw new Error(`${where}: ${v} is not an address`);
    return sym;
  }

  /** Location a data access to an address symbol reaches (code through the current mapping). */
  protected locOfSymbol(s: Uint8Array, sym: ValueSymbol, where: string): number {
    const L = this.layout;
    if (sym.kind === "data") return sym.loc;
    if (sym.kind === "code") {
      const r = L.regions[sym.region];
      return this.locOfVa(s, -1, L.pages[r.page].vaBase + r.offset + sym.line);
    }
    throw new Error(`${where}: ${sym.name} is not a memory address`);
  }

  /** Registers, ALU, flags, loads, stores and branches; false when not enabled. */
  protected instructionStep(t: Uint8Array, c: number, st: Step): boolean {
    const L = this.layout;
    const a = this.a;
    const b = this.base(c);
    const R = b + this.o.regs;
    const cpu = L.cpus[c];
    if (!this.lateFetchAllows(t, c, st)) return false;
    switch (st.k) {
      case "mov":
        t[R + st.dst] = st.src >= 0 ? t[R + st.src] : st.value;
        break;
      case "alu":
        t[R + st.dst] = alu(st.fn, t[R + st.a], st.b >= 0 ? t[R + st.b] : st.value, st.text);
        break;
      case "flags": {
        const x = t[R + st.a];
        const y = st.b >= 0 ? t[R + st.b] : st.value;
        t[R + cpu.flagsReg] = flags(st.fn, x, y);
        break;
      }
      case "cset":
        t[R + st.dst] = condHolds(st.cond, t[R + cpu.flagsReg]) ? 1 : 0;
        break;
      case "ldr": {
        const loc = this.locOfSymbol(t, this.symbolAt(t[R + st.addr], st.text), st.text);
        const v = this.read(t, c, loc);
        t[R + st.dst] = this.isCode(loc) ? L.versionSymbol[v] : v;
        break;
      }
      case "str": {
        const n = t[b + F.SBLEN];
        if (n >= L.sbMax) return false;
        const sym = this.symbolAt(t[R + st.addr], st.text);
        const loc = this.locOfSymbol(t, sym, st.text);
        let v = t[R + st.src];
        if (this.isCode(loc)) {
          const vs = L.symbols[v - SYMBOL_BASE];
          if (v < SYMBOL_BASE || !vs || vs.kind !== "insn")
            throw new Error(`${st.text}: storing ${v} into code; only instruction values can be`);
          v = vs.version;
        }
        let ep = t[b + F.EPOCH];
        if (st.release && !a.tso) ep = ++t[b + F.EPOCH] | 128; // bit 7: a release (acquireWaits)
        const e = b + F.SB + 3 * n;
        t[e] = loc;
        t[e + 1] = v;
        t[e + 2] = ep;
        t[b + F.SBLEN] = n + 1;
        if (a.smcSnoopLinear && sym.kind === "code") {
          const r = L.regions[sym.region];
          t[b + this.o.pipe + L.pages[r.page].vaBase + r.offset + sym.line] = E.NONE;
        }
        break;
      }
      case "jump": {
        let take = true;
        if (st.when === "cbz") take = t[R + st.reg] === 0;
        else if (st.when === "cbnz") take = t[R + st.reg] !== 0;
        else if (st.when !== "always") take = condHolds(st.when, t[R + cpu.flagsReg]);
        if (st.link >= 0) t[R + st.link] = st.linkValue;
        t[b + F.PC] = take ? st.target : t[b + F.PC] + 1;
        return true;
      }
      case "br": {
        const sym = this.symbolAt(t[R + st.reg], st.text);
        if (sym.kind !== "label" || sym.cpu !== c)
          throw new Error(`${st.text}: ${sym.name} is not a label of P${c}`);
        if (st.link >= 0) t[R + st.link] = st.linkValue;
        t[b + F.PC] = sym.pc;
        return true;
      }
      default:
        throw new Error(`step ${st.k} is not an instruction-level step`);
    }
    t[b + F.PC]++;
    return true;
  }

  protected isLocal(s: Uint8Array, c: number, st: Step, pc: number): boolean {
    if (s[this.base(c) + F.PROPH] !== 0) return false;
    switch (st.k) {
      case "mov":
      case "alu":
      case "flags":
      case "cset":
        return true;
      case "jump":
        return st.target > pc;
      case "br": {
        const v = s[this.base(c) + this.o.regs + st.reg];
        const sym = this.layout.symbols[v - SYMBOL_BASE];
        return (
          v >= SYMBOL_BASE &&
          sym !== undefined &&
          sym.kind === "label" &&
          sym.cpu === c &&
          sym.pc > pc
        );
      }
      default:
        return false;
    }
  }
}

function alu(fn: AluFn, x: number, y: number, where: string): number {
  if (fn === "eor" && x === y) return 0;
  if (x < SYMBOL_BASE && y < SYMBOL_BASE) {
    const r =
      fn === "add"
        ? x + y
        : fn === "sub"
          ? x - y
          : fn === "eor"
            ? x ^ y
            : fn === "and"
              ? x & y
              : x | y;
    return ((r % SYMBOL_BASE) + SYMBOL_BASE) % SYMBOL_BASE;
  }
  // An address plus or minus zero is the address (address dependencies: EOR X4,X0,X0; ADD X4,X4,X3).
  if ((fn === "add" || fn === "orr" || fn === "eor") && y === 0) return x;
  if ((fn === "add" || fn === "orr" || fn === "eor") && x === 0) return y;
  if (fn === "sub" && y === 0) return x;
  if (fn === "and" && (x === 0 || y === 0)) return 0;
  throw new Error(`${where}: arithmetic on addresses or instructions is not supported`);
}

const FLAG_Z = 1,
  FLAG_N = 2,
  FLAG_C = 4,
  FLAG_V = 8;

function flags(fn: "cmp" | "tst", x: number, y: number): number {
  if (x >= SYMBOL_BASE || y >= SYMBOL_BASE) return x === y ? FLAG_Z | FLAG_C : 0;
  if (fn === "tst") {
    const r = x & y;
    return (r === 0 ? FLAG_Z : 0) | (r & 64 ? FLAG_N : 0);
  }
  const d = x - y;
  return (d === 0 ? FLAG_Z : 0) | (d < 0 ? FLAG_N : 0) | (x >= y ? FLAG_C : 0);
}

/** Arm ARM C1.2.4 condition codes. */
function condHolds(cond: string, f: number): boolean {
  const Z = !!(f & FLAG_Z),
    N = !!(f & FLAG_N),
    C = !!(f & FLAG_C),
    V = !!(f & FLAG_V);
  switch (cond) {
    case "EQ":
      return Z;
    case "NE":
      return !Z;
    case "CS":
    case "HS":
      return C;
    case "CC":
    case "LO":
      return !C;
    case "MI":
      return N;
    case "PL":
      return !N;
    case "VS":
      return V;
    case "VC":
      return !V;
    case "HI":
      return C && !Z;
    case "LS":
      return !C || Z;
    case "GE":
      return N === V;
    case "LT":
      return N !== V;
    case "GT":
      return !Z && N === V;
    case "LE":
      return Z || N !== V;
    default:
      return true;
  }
}
