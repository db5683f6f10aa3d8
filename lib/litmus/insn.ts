/**
 * The AArch64 instructions of the litmus subset: decoding their assembly text (and the few raw
 * A64 encodings the tests store as integers), and a canonical text for instruction values.
 */

import { A64_CONDITIONS, CONDS } from "../model";

/**
 * Registers are canonical names: "X0".."X30", "XZR". A register operand may be shifted left
 * (`X2, LSL #3`) or extended (`W1, SXTW`, `W1, UXTW #2`).
 */
export type Op2 = { reg: string; shift?: number; extend?: string } | { imm: bigint };

/** A branch target: a label of the thread, or an offset in bytes from the instruction (".+4"). */
export type Target = { label: string } | { rel: number };

export type AluFn = "add" | "sub" | "eor" | "and" | "orr";

export type Insn =
  | { k: "ldr"; rt: string; rn: string; off: Op2 | null; acquire: boolean; wide: boolean }
  | { k: "str"; rt: string; rn: string; off: Op2 | null; release: boolean; wide: boolean }
  | { k: "mov"; rd: string; src: Op2 }
  | { k: "alu"; fn: AluFn; rd: string; rn: string; op2: Op2 }
  | { k: "cmp" | "tst"; rn: string; op2: Op2 }
  | { k: "cset"; rd: string; cond: string }
  | { k: "cbz" | "cbnz"; rt: string; target: Target }
  | { k: "b" | "bl"; target: Target }
  | { k: "bcond"; cond: string; target: Target }
  | { k: "blr" | "br" | "ret"; rn: string }
  | { k: "nop" }
  | { k: "isb" }
  /** DMB / DSB with their option, e.g. "DMB SY", "DSB ISH". */
  | { k: "barrier"; kind: "DMB" | "DSB"; option: string }
  /** Cache maintenance by address: "DC CVAU", "DC CIVAC", "IC IVAU". */
  | { k: "cache"; name: string; rt: string }
  /** Cache maintenance of a whole cache: "IC IALLU", "IC IALLUIS". */
  | { k: "cacheall"; name: string }
  | { k: "mrs"; rd: string; sysreg: string }
  | { k: "rbit"; rd: string; rn: string }
  /** UDF #imm: permanently undefined, executing it takes an exception (Arm ARM C6.2 UDF). */
  | { k: "udf"; imm: bigint }
  /** ADR Xd, label: the address of a label of this thread. */
  | { k: "adr"; rd: string; target: Target }
  /** MSR ELR_EL1, Xn: the address the exception handler's ERET returns to. */
  | { k: "msr"; sysreg: string; rn: string }
  /** ERET: return from the exception handler to ELR_EL1. */
  | { k: "eret" }
  /** A raw encoding that is not an instruction of the subset (kept as an opaque value). */
  | { k: "raw"; value: bigint };

const BARRIER_OPTIONS = [
  "SY",
  "ST",
  "LD",
  "ISH",
  "ISHST",
  "ISHLD",
  "NSH",
  "NSHST",
  "NSHLD",
  "OSH",
  "OSHST",
  "OSHLD",
];

/** Instructions herd7 knows that this subset does not take: named in "unsupported" errors. */
type Fail = (msg: string, instruction?: string) => never;

/** Split operands at top-level commas (not inside [...]). */
function operands(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "[") depth++;
    if (ch === "]") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim() !== "" || out.length > 0) out.push(cur.trim());
  return out;
}

function parseReg(s: string, fail: Fail, what = "a register"): { name: string; wide: boolean } {
  const t = s.trim();
  const m = /^([WwXx])(\d{1,2})$/.exec(t);
  if (m && Number(m[2]) <= 30) return { name: `X${Number(m[2])}`, wide: /[Xx]/.test(m[1]) };
  const u = t.toUpperCase();
  if (u === "XZR") return { name: "XZR", wide: true };
  if (u === "WZR") return { name: "XZR", wide: false };
  return fail(`expected ${what} (X0..X30, W0..W30), got "${t}"`);
}

function parseImm(s: string, fail: Fail): bigint {
  const t = s.trim().replace(/^#/, "");
  if (!/^-?(0x[0-9a-fA-F]+|\d+)$/.test(t)) return fail(`expected an immediate "#n", got "${s}"`);
  return t.startsWith("-") ? -BigInt(t.slice(1)) : BigInt(t);
}

const EXTENDS = ["UXTW", "SXTW", "UXTX", "SXTX", "UXTB", "UXTH", "SXTB", "SXTH"];

/**
 * A register operand, possibly shifted (`LSL #n`) or extended (`SXTW`, `UXTW #n`). LSR, ASR and
 * ROR are refused: only left shifts are modelled (as repeated doubling).
 */
function parseShifted(reg: string, mod: string | undefined, fail: Fail): Op2 {
  const r = parseReg(reg, fail).name;
  if (mod === undefined) return { reg: r };
  const m = /^([A-Za-z]+)(?:\s+#?\s*(\d+))?$/.exec(mod.trim());
  if (!m) return fail(`cannot read the operand modifier "${mod.trim()}"`);
  const op = m[1].toUpperCase();
  const n = m[2] === undefined ? 0 : Number(m[2]);
  if (op === "LSL") {
    if (m[2] === undefined) return fail(`LSL needs an amount: "${mod.trim()}"`);
    if (n > 6) return fail(`shift amount #${n} is larger than the model takes (at most #6)`);
    return n ? { reg: r, shift: n } : { reg: r };
  }
  if (EXTENDS.includes(op)) {
    if (n > 4) return fail(`extend shift #${n} is larger than 4`);
    return { reg: r, extend: op, ...(n ? { shift: n } : {}) };
  }
  return fail(`operand modifier ${op} is not supported (only LSL #n and the extends)`);
}

function parseOp2(s: string, fail: Fail): Op2 {
  const t = s.trim();
  if (t.startsWith("#") || /^-?\d/.test(t)) return { imm: parseImm(t, fail) };
  const comma = t.indexOf(",");
  if (comma >= 0) return parseShifted(t.slice(0, comma), t.slice(comma + 1), fail);
  return { reg: parseReg(t, fail).name };
}

function parseTarget(s: string, fail: Fail): Target {
  const t = s.trim();
  const rel = /^\.\s*([+-])\s*(\d+)$/.exec(t);
  if (rel) {
    const n = Number(rel[2]) * (rel[1] === "-" ? -1 : 1);
    if (n % 4 !== 0) return fail(`branch offset ${t} is not a multiple of 4`);
    return { rel: n };
  }
  if (/^[A-Za-z_][\w.]*$/.test(t)) return { label: t };
  return fail(`expected a label or ".+n", got "${t}"`);
}

function parseMem(s: string, fail: Fail): { rn: string; off: Op2 | null } {
  const m = /^\[\s*([^,\]]+?)\s*(?:,\s*([^\]]+?)\s*)?\]$/.exec(s.trim());
  if (!m)
    return fail(
      `expected a memory operand "[Xn]", "[Xn,#imm]" or "[Xn,Xm{,LSL #n|SXTW}]", got "${s.trim()}"`,
    );
  const rn = parseReg(m[1], fail, "a base register").name;
  if (m[2] === undefined) return { rn, off: null };
  return { rn, off: parseOp2(m[2], fail) };
}

/**
 * Decodes one instruction of the subset from its assembly text. `fail(msg, instruction)` is
 * called (and must throw) for anything else; `instruction` is set when the text is an instruction
 * outside the subset.
 */
export function decodeInsn(text: string, fail: Fail): Insn {
  const t = text.trim().replace(/\s+/g, " ");
  const m = /^([A-Za-z][A-Za-z0-9.]*)\s*(.*)$/.exec(t);
  if (!m) return fail(`cannot read the instruction "${t}"`, t);
  const mn = m[1].toUpperCase();
  let args = m[2].trim();
  const bad = (msg: string) => fail(`${msg} in "${t}"`, t);
  const unsupported = () =>
    fail(`instruction "${t}" is not in the supported AArch64 subset (see docs/litmus.md)`, t);
  const argv = () => operands(args);
  const want = (n: number) => {
    const a = argv();
    if (a.length !== n) bad(`${mn} takes ${n} operand${n === 1 ? "" : "s"}, got ${a.length}`);
    return a;
  };
  const f: Fail = (msg) => bad(msg);
  switch (mn) {
    case "NOP":
      want(0);
      return { k: "nop" };
    case "UDF": {
      const [i] = want(1);
      return { k: "udf", imm: parseImm(i, f) };
    }
    case "ADR": {
      const [d, l] = want(2);
      const target = parseTarget(l, f);
      return { k: "adr", rd: parseReg(d, f).name, target };
    }
    case "MSR": {
      const [sr, r] = want(2);
      const sysreg = sr.toUpperCase();
      if (sysreg !== "ELR_EL1") return fail(`MSR to ${sr} is not supported (only ELR_EL1)`, t);
      return { k: "msr", sysreg, rn: parseReg(r, f).name };
    }
    case "ERET":
      want(0);
      return { k: "eret" };
    case "ISB":
      if (args !== "" && args.toUpperCase() !== "SY") bad("ISB takes no operand but SY");
      return { k: "isb" };
    case "DMB":
    case "DSB": {
      const o = args.toUpperCase();
      if (!BARRIER_OPTIONS.includes(o))
        bad(`${mn} option "${args}" is not one of ${BARRIER_OPTIONS.join(", ")}`);
      return { k: "barrier", kind: mn, option: o };
    }
    case "DC":
    case "IC": {
      const a = argv();
      const op = (a[0] ?? "").toUpperCase();
      const name = `${mn} ${op}`;
      if (name === "IC IALLU" || name === "IC IALLUIS") {
        if (a.length !== 1) bad(`${name} takes no address`);
        return { k: "cacheall", name };
      }
      if (
        name === "DC CVAU" ||
        name === "DC CIVAC" ||
        name === "IC IVAU" ||
        name === "DC CVAC" ||
        name === "DC CIVAU"
      ) {
        if (name === "DC CVAC" || name === "DC CIVAU") return unsupported();
        if (a.length !== 2) bad(`${name} takes an address register`);
        return { k: "cache", name, rt: parseReg(a[1], f).name };
      }
      return unsupported();
    }
    case "MOV": {
      const [d, s] = want(2);
      return { k: "mov", rd: parseReg(d, f).name, src: parseOp2(s, f) };
    }
    case "ADD":
    case "SUB":
    case "EOR":
    case "AND":
    case "ORR": {
      const a = argv();
      if (a.length === 4) a.splice(2, 2, `${a[2]},${a[3]}`);
      if (a.length !== 3) bad(`${mn} takes 3 operands, got ${a.length}`);
      const [d, n, o] = a;
      return {
        k: "alu",
        fn: mn.toLowerCase() as AluFn,
        rd: parseReg(d, f).name,
        rn: parseReg(n, f).name,
        op2: parseOp2(o, f),
      };
    }
    case "CMP":
    case "TST": {
      const a = argv();
      if (a.length === 3) a.splice(1, 2, `${a[1]},${a[2]}`);
      if (a.length !== 2) bad(`${mn} takes 2 operands, got ${a.length}`);
      const [n, o] = a;
      return { k: mn === "CMP" ? "cmp" : "tst", rn: parseReg(n, f).name, op2: parseOp2(o, f) };
    }
    case "CSET": {
      const [d, c] = want(2);
      const cond = c.toUpperCase();
      if (!CONDS.includes(cond)) bad(`unknown condition "${c}"`);
      return { k: "cset", rd: parseReg(d, f).name, cond };
    }
    case "CBZ":
    case "CBNZ": {
      const [r, l] = want(2);
      return {
        k: mn === "CBZ" ? "cbz" : "cbnz",
        rt: parseReg(r, f).name,
        target: parseTarget(l, f),
      };
    }
    case "B":
    case "BL": {
      const [l] = want(1);
      return { k: mn === "B" ? "b" : "bl", target: parseTarget(l, f) };
    }
    case "BR":
    case "BLR": {
      const [r] = want(1);
      return { k: mn === "BR" ? "br" : "blr", rn: parseReg(r, f).name };
    }
    case "RET": {
      if (args === "") return { k: "ret", rn: "X30" };
      const [r] = want(1);
      return { k: "ret", rn: parseReg(r, f).name };
    }
    case "LDR":
    case "LDAR":
    case "STR":
    case "STLR": {
      const [r, mem] = want(2);
      const reg = parseReg(r, f);
      const { rn, off } = parseMem(mem, f);
      if ((mn === "LDAR" || mn === "STLR") && off) bad(`${mn} takes no offset`);
      if (mn === "LDR" || mn === "LDAR")
        return { k: "ldr", rt: reg.name, rn, off, acquire: mn === "LDAR", wide: reg.wide };
      return { k: "str", rt: reg.name, rn, off, release: mn === "STLR", wide: reg.wide };
    }
    case "MRS": {
      const [d, sr] = want(2);
      const sysreg = sr.toUpperCase();
      if (sysreg !== "CTR_EL0") return fail(`MRS of ${sr} is not supported (only CTR_EL0)`, t);
      return { k: "mrs", rd: parseReg(d, f).name, sysreg };
    }
    case "RBIT": {
      const [d, n] = want(2);
      return { k: "rbit", rd: parseReg(d, f).name, rn: parseReg(n, f).name };
    }
    default: {
      const bc = /^B\.([A-Z]{2})$/.exec(mn);
      if (bc) {
        if (!CONDS.includes(bc[1])) bad(`unknown condition "${bc[1]}"`);
        args = args.trim();
        const [l] = want(1);
        return { k: "bcond", cond: bc[1], target: parseTarget(l, f) };
      }
      return unsupported();
    }
  }
}

function op2Text(o: Op2): string {
  if (!("reg" in o)) return `#${o.imm}`;
  if (o.extend) return `${o.reg.replace(/^X/, "W")},${o.extend}${o.shift ? ` #${o.shift}` : ""}`;
  return o.shift ? `${o.reg},LSL #${o.shift}` : o.reg;
}

function targetText(t: Target): string {
  return "label" in t ? t.label : t.rel >= 0 ? `.+${t.rel}` : `.-${-t.rel}`;
}

/** Assembly text of an instruction (registers as X, branches as written). */
export function insnText(i: Insn): string {
  switch (i.k) {
    case "ldr":
    case "str": {
      const mn = i.k === "ldr" ? (i.acquire ? "LDAR" : "LDR") : i.release ? "STLR" : "STR";
      const r = i.wide ? i.rt : i.rt.replace(/^X/, "W");
      return `${mn} ${r},[${i.rn}${i.off ? `,${op2Text(i.off)}` : ""}]`;
    }
    case "mov":
      return `MOV ${i.rd},${op2Text(i.src)}`;
    case "alu":
      return `${i.fn.toUpperCase()} ${i.rd},${i.rn},${op2Text(i.op2)}`;
    case "cmp":
    case "tst":
      return `${i.k.toUpperCase()} ${i.rn},${op2Text(i.op2)}`;
    case "cset":
      return `CSET ${i.rd},${i.cond}`;
    case "cbz":
    case "cbnz":
      return `${i.k.toUpperCase()} ${i.rt},${targetText(i.target)}`;
    case "b":
    case "bl":
      return `${i.k.toUpperCase()} ${targetText(i.target)}`;
    case "bcond":
      return `B.${i.cond} ${targetText(i.target)}`;
    case "blr":
    case "br":
      return `${i.k.toUpperCase()} ${i.rn}`;
    case "ret":
      return i.rn === "X30" ? "RET" : `RET ${i.rn}`;
    case "nop":
      return "NOP";
    case "isb":
      return "ISB";
    case "barrier":
      return `${i.kind} ${i.option}`;
    case "cache":
      return `${i.name},${i.rt}`;
    case "cacheall":
      return i.name;
    case "mrs":
      return `MRS ${i.rd},${i.sysreg}`;
    case "rbit":
      return `RBIT ${i.rd},${i.rn}`;
    case "udf":
      return `UDF #${i.imm}`;
    case "adr":
      return `ADR ${i.rd},${targetText(i.target)}`;
    case "msr":
      return `MSR ${i.sysreg},${i.rn}`;
    case "eret":
      return "ERET";
    case "raw":
      return `0x${i.value.toString(16)}`;
  }
}

/**
 * The name of an instruction value, usable as a version name and in conditions: the assembly
 * text with branch targets relative (".+12"), spaces and commas as "_", "#" dropped.
 * `B .+4` -> "B_.+4", `NOP` -> "NOP", `ADD X0,X0,#1` -> "ADD_X0_X0_1".
 */
export function insnSymbol(i: Insn): string {
  if (i.k === "raw") return `0x${i.value.toString(16)}`;
  return insnText(i)
    .replace(/#/g, "")
    .replace(/[\s,[\]]+/g, "_")
    .replace(/_+$/, "");
}

/** CMODX class of an instruction (Arm ARM B2.2.5): B, BL, NOP, BRK, ISB... or "code". */
export function cmodxKind(i: Insn): string {
  switch (i.k) {
    case "b":
      return "B";
    case "bl":
      return "BL";
    case "nop":
      return "NOP";
    case "isb":
      return "ISB";
    default:
      return "code";
  }
}

function sext(v: number, bits: number): number {
  const m = 1 << (bits - 1);
  return (v ^ m) - m;
}

/**
 * Decodes a raw A64 encoding held as an integer (as some tests do: `0:X0=0x54000041`) for the
 * instructions of the subset whose encoding is simple: B, BL, B.cond, NOP, ISB, ADD/SUB
 * (immediate, 64-bit). Others give `raw`.
 */
export function decodeEncoding(v: bigint): Insn {
  if (v < 0n || v > 0xffffffffn) return { k: "raw", value: v };
  const w = Number(v);
  if (w === 0xd503201f) return { k: "nop" };
  if (w === 0xd5033fdf) return { k: "isb" };
  if ((w & 0xfc000000) >>> 0 === 0x14000000)
    return { k: "b", target: { rel: sext(w & 0x3ffffff, 26) * 4 } };
  if ((w & 0xfc000000) >>> 0 === 0x94000000)
    return { k: "bl", target: { rel: sext(w & 0x3ffffff, 26) * 4 } };
  if ((w & 0xff000010) >>> 0 === 0x54000000) {
    const cond = A64_CONDITIONS[w & 15];
    return { k: "bcond", cond, target: { rel: sext((w >>> 5) & 0x7ffff, 19) * 4 } };
  }
  const top = (w & 0xffc00000) >>> 0;
  if (top === 0x91000000 || top === 0xd1000000) {
    const imm = (w >>> 10) & 0xfff;
    const rn = (w >>> 5) & 31;
    const rd = w & 31;
    if (rn === 31 || rd === 31) return { k: "raw", value: v };
    return {
      k: "alu",
      fn: top === 0x91000000 ? "add" : "sub",
      rd: `X${rd}`,
      rn: `X${rn}`,
      op2: { imm: BigInt(imm) },
    };
  }
  return { k: "raw", value: v };
}
