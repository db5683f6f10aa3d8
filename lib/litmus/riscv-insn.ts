/**
 * The RISC-V instructions of herd7's RISC-V litmus tests (RV64I, Zifencei, the privileged
 * SFENCE.VMA): decoding their assembly text with the usual pseudo-instructions (li, mv, j, jr,
 * ret, nop, beqz...), and a canonical text for instruction values (`instr:"li s0, 2"`).
 */

/** ABI names of x0..x31 (RISC-V psABI, "Integer register convention"). */
const ABI = [
  "zero",
  "ra",
  "sp",
  "gp",
  "tp",
  "t0",
  "t1",
  "t2",
  "s0",
  "s1",
  "a0",
  "a1",
  "a2",
  "a3",
  "a4",
  "a5",
  "a6",
  "a7",
  "s2",
  "s3",
  "s4",
  "s5",
  "s6",
  "s7",
  "s8",
  "s9",
  "s10",
  "s11",
  "t3",
  "t4",
  "t5",
  "t6",
];

/** Canonical (ABI) name of a register: "x8", "fp" and "s0" are "s0"; null when not one. */
export function rvReg(r: string): string | null {
  const t = r.trim().toLowerCase();
  const x = /^x(\d{1,2})$/.exec(t);
  if (x) return Number(x[1]) < 32 ? ABI[Number(x[1])] : null;
  if (t === "fp") return "s0";
  return ABI.includes(t) ? t : null;
}

export type RvAlu = "add" | "sub" | "xor" | "and" | "or";
export type RvCond = "eq" | "ne";
/** A FENCE predecessor or successor set, letters in the order "iorw". */
export type FenceSet = string;

export type RvInsn =
  | { k: "li"; rd: string; imm: bigint }
  | { k: "mv"; rd: string; rs: string }
  | { k: "alu"; fn: RvAlu; rd: string; rs1: string; rs2: string | null; imm: bigint }
  /** lw, lwu, ld (w = word, d = doubleword; the model's values fit both). */
  | { k: "load"; mn: string; rd: string; rs1: string; off: bigint }
  | { k: "store"; mn: string; rs2: string; rs1: string; off: bigint }
  /** jal rd, label (j label is jal zero, label). */
  | { k: "jal"; rd: string; label: string }
  /** jalr rd, off(rs1) (jr rs is jalr zero, 0(rs); ret is jr ra). */
  | { k: "jalr"; rd: string; rs1: string }
  | { k: "branch"; cond: RvCond; rs1: string; rs2: string; label: string }
  | { k: "nop" }
  | { k: "fence.i" }
  | { k: "fence"; pred: FenceSet; succ: FenceSet }
  | { k: "sfence.vma" };

type Fail = (msg: string, instruction?: string) => never;

/** Instructions of RISC-V that the subset does not take: named in "unsupported" errors. */
function operands(s: string): string[] {
  return s.trim() === "" ? [] : s.split(",").map((x) => x.trim());
}

function fenceSet(s: string, fail: Fail, text: string): FenceSet {
  const t = s.trim().toLowerCase();
  if (!/^[iorw]+$/.test(t)) fail(`"${s}" is not a FENCE set (letters i, o, r, w): "${text}"`);
  return [..."iorw"].filter((c) => t.includes(c)).join("");
}

/** Decodes one instruction; `fail` reports what is wrong or unsupported. */
export function decodeRv(text: string, fail: Fail): RvInsn {
  const t = text.trim();
  const m = /^([A-Za-z][\w.]*)\s*(.*)$/.exec(t);
  if (!m) return fail(`cannot read the instruction "${t}"`, t);
  const mn = m[1].toLowerCase();
  const ops = operands(m[2]);
  const reg = (s: string | undefined): string => {
    const r = s === undefined ? null : rvReg(s);
    if (!r) fail(`"${s ?? ""}" is not a register in "${t}"`);
    return r!;
  };
  const imm = (s: string | undefined): bigint => {
    const v = (s ?? "").trim();
    if (!/^-?(0x[0-9a-fA-F]+|\d+)$/.test(v)) fail(`"${v}" is not an immediate in "${t}"`);
    return v.startsWith("-") ? -BigInt(v.slice(1)) : BigInt(v);
  };
  const label = (s: string | undefined): string => {
    const v = (s ?? "").trim();
    if (!/^[A-Za-z_][\w.]*$/.test(v)) fail(`"${v}" is not a label in "${t}"`);
    return v;
  };
  /** "off(rs1)" or "(rs1)". */
  const mem = (s: string | undefined): { rs1: string; off: bigint } => {
    const mm = /^(-?(?:0x[0-9a-fA-F]+|\d+))?\s*\(\s*(\w+)\s*\)$/.exec((s ?? "").trim());
    if (!mm) return fail(`"${s ?? ""}" is not an address "off(reg)" in "${t}"`);
    return { rs1: reg(mm[2]), off: mm[1] ? imm(mm[1]) : 0n };
  };
  const arity = (n: number) => {
    if (ops.length !== n) fail(`${mn} takes ${n} operand${n === 1 ? "" : "s"}: "${t}"`);
  };
  switch (mn) {
    case "li":
      arity(2);
      return { k: "li", rd: reg(ops[0]), imm: imm(ops[1]) };
    case "mv":
      arity(2);
      return { k: "mv", rd: reg(ops[0]), rs: reg(ops[1]) };
    case "addi":
    case "xori":
    case "andi":
    case "ori": {
      arity(3);
      const fn = mn.slice(0, -1) as RvAlu;
      return { k: "alu", fn, rd: reg(ops[0]), rs1: reg(ops[1]), rs2: null, imm: imm(ops[2]) };
    }
    case "add":
    case "sub":
    case "xor":
    case "and":
    case "or":
      arity(3);
      return { k: "alu", fn: mn, rd: reg(ops[0]), rs1: reg(ops[1]), rs2: reg(ops[2]), imm: 0n };
    case "lw":
    case "lwu":
    case "ld": {
      arity(2);
      return { k: "load", mn, rd: reg(ops[0]), ...mem(ops[1]) };
    }
    case "sw":
    case "sd": {
      arity(2);
      return { k: "store", mn, rs2: reg(ops[0]), ...mem(ops[1]) };
    }
    case "j":
      arity(1);
      return { k: "jal", rd: "zero", label: label(ops[0]) };
    case "jal":
      if (ops.length === 1) return { k: "jal", rd: "ra", label: label(ops[0]) };
      arity(2);
      return { k: "jal", rd: reg(ops[0]), label: label(ops[1]) };
    case "jr":
      arity(1);
      return { k: "jalr", rd: "zero", rs1: reg(ops[0]) };
    case "ret":
      arity(0);
      return { k: "jalr", rd: "zero", rs1: "ra" };
    case "jalr": {
      if (ops.length === 1) {
        const r = rvReg(ops[0]);
        const a = r ? { rs1: r, off: 0n } : mem(ops[0]);
        if (a.off !== 0n) fail(`a jump offset other than 0 is not supported: "${t}"`, t);
        return { k: "jalr", rd: "ra", rs1: a.rs1 };
      }
      // jalr rd, off(rs1) or jalr rd, rs1, off
      const rd = reg(ops[0]);
      const a = ops.length === 2 ? mem(ops[1]) : { rs1: reg(ops[1]), off: imm(ops[2]) };
      if (ops.length > 3) fail(`jalr takes at most 3 operands: "${t}"`);
      if (a.off !== 0n) fail(`a jump offset other than 0 is not supported: "${t}"`, t);
      return { k: "jalr", rd, rs1: a.rs1 };
    }
    case "beq":
    case "bne":
      arity(3);
      return {
        k: "branch",
        cond: mn.slice(1) as RvCond,
        rs1: reg(ops[0]),
        rs2: reg(ops[1]),
        label: label(ops[2]),
      };
    case "beqz":
    case "bnez":
      arity(2);
      return {
        k: "branch",
        cond: mn.slice(1, 3) as RvCond,
        rs1: reg(ops[0]),
        rs2: "zero",
        label: label(ops[1]),
      };
    case "nop":
      arity(0);
      return { k: "nop" };
    case "fence.i":
      arity(0);
      return { k: "fence.i" };
    case "fence":
      if (ops.length === 0) return { k: "fence", pred: "iorw", succ: "iorw" };
      arity(2);
      return { k: "fence", pred: fenceSet(ops[0], fail, t), succ: fenceSet(ops[1], fail, t) };
    case "sfence.vma":
      if (ops.length > 2) fail(`sfence.vma takes at most 2 operands: "${t}"`);
      ops.forEach(reg);
      return { k: "sfence.vma" };
    default:
      return fail(`instruction "${mn}" is not supported (in "${t}")`, mn);
  }
}

/** Canonical assembly text of an instruction value. */
export function rvText(i: RvInsn): string {
  switch (i.k) {
    case "li":
      return `li ${i.rd}, ${i.imm}`;
    case "mv":
      return `mv ${i.rd}, ${i.rs}`;
    case "alu":
      return i.rs2 === null
        ? `${i.fn}i ${i.rd}, ${i.rs1}, ${i.imm}`
        : `${i.fn} ${i.rd}, ${i.rs1}, ${i.rs2}`;
    case "load":
      return `${i.mn} ${i.rd}, ${i.off}(${i.rs1})`;
    case "store":
      return `${i.mn} ${i.rs2}, ${i.off}(${i.rs1})`;
    case "jal":
      return i.rd === "zero"
        ? `j ${i.label}`
        : i.rd === "ra"
          ? `jal ${i.label}`
          : `jal ${i.rd}, ${i.label}`;
    case "jalr":
      return i.rd === "zero"
        ? `jr ${i.rs1}`
        : i.rd === "ra"
          ? `jalr ${i.rs1}`
          : `jalr ${i.rd}, 0(${i.rs1})`;
    case "branch":
      return `b${i.cond} ${i.rs1}, ${i.rs2}, ${i.label}`;
    case "nop":
      return "nop";
    case "fence.i":
      return "fence.i";
    case "fence":
      return `fence ${i.pred},${i.succ}`;
    case "sfence.vma":
      return "sfence.vma";
  }
}

/** Name of an instruction value usable as a version name: `li s0, 2` -> "li_s0_2". */
export function rvSymbol(i: RvInsn): string {
  return rvText(i)
    .replace(/[^\w.]+/g, "_")
    .replace(/_+$/, "");
}

/** Registers an instruction writes (x0 writes are discarded). */
export function rvWrites(i: RvInsn): string[] {
  const w = (r: string) => (r === "zero" ? [] : [r]);
  switch (i.k) {
    case "li":
    case "mv":
    case "alu":
    case "load":
      return w(i.rd);
    case "jal":
    case "jalr":
      return w(i.rd);
    default:
      return [];
  }
}

/**
 * An instruction whose only effect is on registers, from values known without memory: it can
 * be executed before it is fetched is known (see the riscv64 rule on late fetch).
 */
export function rvRegisterOnly(i: RvInsn): boolean {
  return i.k === "li" || i.k === "mv" || i.k === "alu" || i.k === "nop";
}
