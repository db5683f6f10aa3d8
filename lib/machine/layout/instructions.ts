/**
 * Instruction-level operations (the litmus front ends emit them) as steps: registers hold small
 * integers or symbols (addresses, instruction values, labels), branches name labels resolved
 * when the program is complete, `exec` runs the instruction a code line holds.
 */
import { CONDS, type SourcePos } from "../../model";
import type { Op, Operand } from "../../scenario/spec";
import type { Step } from "./types";
import type { ProgramCompiler } from "./program";
import { takesAddress } from "../../arch";

export type InstructionOp = Extract<
  Op,
  {
    op:
      | "mov"
      | "alu"
      | "cmp"
      | "tst"
      | "cset"
      | "ldr"
      | "str"
      | "b"
      | "cbz"
      | "cbnz"
      | "bcond"
      | "bl"
      | "br"
      | "exec"
      | "insn-reg";
  }
>;

function operandText(o: Operand): string {
  if ("reg" in o) return o.reg;
  if ("imm" in o) return `#${o.imm}`;
  if ("addr" in o) return o.addr;
  if ("insn" in o) return `instr:${o.insn}`;
  return o.label;
}

function checkCond(p: ProgramCompiler, c: string, pos?: SourcePos): void {
  if (!CONDS.includes(c.toUpperCase()))
    throw p.err(`P${p.cpu}: unknown condition "${c}" (known: ${CONDS.join(", ")})`, pos);
}

/** A source operand as [register index or -1, encoded value]. */
function operand(p: ProgramCompiler, o: Operand, pos?: SourcePos): [number, number] {
  const { cx, names, symbols, cpu } = p;
  if ("reg" in o) return [p.reg(o.reg, "data", pos), 0];
  if ("imm" in o) {
    cx.checkValue(o.imm, "immediate", pos);
    return [-1, o.imm];
  }
  if ("addr" in o) {
    if (names.isData(o.addr)) return [-1, symbols.value(`data:${o.addr}`)];
    const t = /^([A-Za-z_][\w.]*)(?:\+(\d+))?$/.exec(o.addr);
    const r = t ? names.regionNamed(t[1]) : undefined;
    if (!t || !r)
      throw p.err(`P${cpu}: "${o.addr}" is neither a data location nor a code region`, pos);
    const line = t[2] === undefined ? 0 : Number(t[2]);
    if (line >= r.lines)
      throw p.err(`P${cpu}: ${o.addr}: line out of range (region has ${r.lines} lines)`, pos);
    return [-1, symbols.value(`code:${r.name}+${line}`)];
  }
  if ("insn" in o) {
    const v = cx.versions.indexOf(o.insn);
    if (v < 0)
      throw p.err(
        `P${cpu}: instruction value "${o.insn}" is not a version of any code region`,
        pos,
      );
    return [-1, symbols.version(cx.versions, v)];
  }
  const sym = symbols.add(`label:${cpu}:${o.label}`, {
    kind: "label",
    name: `P${cpu}:${o.label}`,
    cpu,
    pc: -1,
  });
  p.labelRefs.push({ sym, label: o.label, pos });
  return [-1, sym];
}

/** A jump to `label` (fixed up once the program's labels are known). */
function jump(
  p: ProgramCompiler,
  label: string,
  pos: SourcePos | undefined,
  s: Omit<Extract<Step, { k: "jump" }>, "k" | "target">,
): Step[] {
  p.fixups.push({ step: p.steps.length, label, pos });
  return [{ k: "jump", target: -1, ...s }];
}

/** Steps of an instruction-level operation of CPU `p`. */
export function instructionSteps(p: ProgramCompiler, op: InstructionOp): Step[] {
  const { cx, names } = p;
  const pos = op.pos;
  const reg = (n: string) => p.reg(n, "data", pos);
  switch (op.op) {
    case "mov": {
      const [src, value] = operand(p, op.src, pos);
      return [
        { k: "mov", dst: reg(op.dst), src, value, text: `MOV ${op.dst}, ${operandText(op.src)}` },
      ];
    }
    case "alu": {
      const [b, value] = operand(p, op.b, pos);
      return [
        {
          k: "alu",
          fn: op.fn,
          dst: reg(op.dst),
          a: reg(op.a),
          b,
          value,
          text: `${op.fn.toUpperCase()} ${op.dst}, ${op.a}, ${operandText(op.b)}`,
        },
      ];
    }
    case "cmp":
    case "tst": {
      const [b, value] = operand(p, op.b, pos);
      const step: Step = {
        k: "flags",
        fn: op.op,
        a: reg(op.a),
        b,
        value,
        text: `${op.op.toUpperCase()} ${op.a}, ${operandText(op.b)}`,
      };
      p.flagsUsed = true;
      return [step];
    }
    case "cset": {
      checkCond(p, op.cond, pos);
      const step: Step = {
        k: "cset",
        dst: reg(op.dst),
        cond: op.cond.toUpperCase(),
        text: `CSET ${op.dst}, ${op.cond}`,
      };
      p.flagsUsed = true;
      return [step];
    }
    case "ldr": {
      const text = `${op.acquire ? "LDAR" : "LDR"} ${op.dst}, [${op.addr}]`;
      return [{ k: "ldr", dst: reg(op.dst), addr: reg(op.addr), acquire: !!op.acquire, text }];
    }
    case "str": {
      const text = `${op.release ? "STLR" : "STR"} ${op.src}, [${op.addr}]`;
      return [{ k: "str", src: reg(op.src), addr: reg(op.addr), release: !!op.release, text }];
    }
    case "b":
      return jump(p, op.target, pos, {
        when: "always",
        reg: -1,
        link: -1,
        linkValue: 0,
        text: `B ${op.target}`,
      });
    case "cbz":
    case "cbnz":
      return jump(p, op.target, pos, {
        when: op.op,
        reg: reg(op.reg),
        link: -1,
        linkValue: 0,
        text: `${op.op.toUpperCase()} ${op.reg}, ${op.target}`,
      });
    case "bcond":
      checkCond(p, op.cond, pos);
      p.flagsUsed = true;
      return jump(p, op.target, pos, {
        when: op.cond.toUpperCase(),
        reg: -1,
        link: -1,
        linkValue: 0,
        text: `B.${op.cond} ${op.target}`,
      });
    case "bl": {
      const ret = p.returnLabel(p.steps.length + 1);
      return jump(p, op.target, pos, {
        when: "always",
        reg: -1,
        link: reg(op.link),
        linkValue: ret,
        text: `BL ${op.target}`,
      });
    }
    case "br": {
      const link = op.link === undefined ? -1 : reg(op.link);
      const ret = link < 0 ? 0 : p.returnLabel(p.steps.length + 1);
      return [
        {
          k: "br",
          reg: reg(op.reg),
          link,
          linkValue: ret,
          text: link < 0 ? `BR ${op.reg}` : `BLR ${op.reg}`,
        },
      ];
    }
    case "exec": {
      const r = names.region(op.region, "exec", pos);
      const line = op.line ?? 0;
      if (!Number.isInteger(line) || line < 0 || line >= r.lines)
        throw p.err(`exec ${r.name}+${line}: line out of range (region has ${r.lines} lines)`, pos);
      const versions = names.versionsOf(r);
      for (const v of Object.keys(op.dispatch)) {
        if (v !== "trap" && !versions.includes(v))
          throw p.err(
            `exec ${r.name}: dispatch names "${v}", which is not one of its versions`,
            pos,
          );
      }
      p.execFixups.push({ step: p.steps.length, dispatch: op.dispatch, pos });
      return [
        {
          k: "exec",
          region: r.index,
          line,
          dispatch: [],
          text: `execute ${r.name}${r.lines > 1 ? `+${line}` : ""}`,
        },
      ];
    }
    case "insn-reg": {
      const rule = cx.arch.instructions[op.name];
      if (!rule) throw p.err(`${op.name} is not an instruction of ${cx.arch.name}`, pos);
      if (!takesAddress(rule.effect)) throw p.err(`${op.name} takes no address`, pos);
      return [
        {
          k: "effect-reg",
          effect: rule.effect,
          insn: op.name,
          addr: reg(op.addr),
          text: `${op.name}, ${op.addr}`,
        },
      ];
    }
    default:
      throw p.err(`unknown operation ${JSON.stringify((op as { op: unknown }).op)}`, pos);
  }
}
