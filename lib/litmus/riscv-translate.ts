/**
 * A herd7 RISC-V instruction-fetch test (riscv.ts) as a scenario of a riscv64 variant, through
 * the translation AArch64 shares (translation.ts):
 *
 * - every code label a register holds (`0:a1=P1:mod`) is a one-line code region `P1_mod` whose
 *   versions are the instruction there and every instruction value of the test;
 * - where a thread reaches such a label it executes the line (`exec`: fetched like any fetch)
 *   and continues at a block performing the version it fetched;
 * - jal/jalr/jr/ret/j/beq/bne become branches; a jalr through a register that the initial state
 *   set to a code label (and that nothing writes) runs a copy of that thread's code.
 *
 * The architecture variant is riscv64 (Zifencei, no Ziccid) unless the caller picks another
 * riscv64 variant, such as riscv64+ziccid.
 */
import { architectures, families } from "../arch";
import { explore } from "../explorer/explore";
import type { CpuSpec, Op, Operand, RegionSpec } from "../scenario/spec";
import { failIn, type At, type Fail } from "./frame";
import type { RiscvTest, RvInit } from "./riscv";
import {
  decodeRv,
  rvReg,
  rvRegisterOnly,
  rvSymbol,
  rvText,
  rvWrites,
  type RvInsn,
} from "./riscv-insn";
import { herdResult, type LitmusOptions, type LitmusResult } from "./run";
import {
  dataLocations,
  labelPos as labelPosIn,
  labelRegions,
  layoutProgram,
  MAX_INT,
  posOf,
  initOperand,
  rewriteCondition,
  specOf,
  type Translation,
} from "./translation";

export interface RiscvTranslateOptions {
  /** A riscv64 variant of lib/arch (default "riscv64"). */
  arch?: string;
}

/** Translates a RISC-V test into a scenario for a riscv64 variant. */
export function translateRiscv(test: RiscvTest, opts: RiscvTranslateOptions = {}): Translation {
  const file = test.file;
  const fail = failIn(file);
  const arch = opts.arch ?? "riscv64";
  const archDef = architectures[arch];
  const variants = families.riscv64.variants;
  if (!archDef || !variants.includes(archDef))
    fail(`"${arch}" is not a riscv64 variant (known: ${variants.map((a) => a.name).join(", ")})`, {
      line: 1,
      column: 1,
    });
  const n = test.threads.length;
  if (n > 8) fail(`at most 8 threads are supported, got ${n}`, { line: 1, column: 1 });
  const labelPos = (th: number, lab: string) => labelPosIn(test, th, lab);
  for (const e of test.init)
    if (e.thread !== null && e.thread >= n)
      fail(`${e.thread}:${e.name}: there is no thread P${e.thread}`, e);
  const data = dataLocations(test, fail);
  // Code regions: every code label a register holds.
  const regionPos = labelRegions(test, fail);
  const regionAt = new Map<string, string>(); // "k:p" -> region
  for (const [name, { thread, pos }] of regionPos) regionAt.set(`${thread}:${pos}`, name);

  // Instruction values.
  const instructions: Record<string, string> = {};
  const values: RvInsn[] = [];
  const addValue = (i: RvInsn) => {
    const s = rvSymbol(i);
    if (!(s in instructions)) {
      instructions[s] = rvText(i);
      values.push(i);
    }
    return s;
  };
  for (const e of test.init) if (e.value.k === "instr") addValue(e.value.insn);
  const insnOf = new Map<string, RvInsn>();
  const regions: RegionSpec[] = [];
  for (const [name, { thread, pos }] of regionPos) {
    const initial = test.threads[thread].code[pos].insn!.insn;
    const init = rvSymbol(initial);
    instructions[init] ??= rvText(initial);
    insnOf.set(init, initial);
    for (const v of values) insnOf.set(rvSymbol(v), v);
    const versions = [init, ...values.map(rvSymbol).filter((s) => s !== init)];
    regions.push({
      name,
      lines: 1,
      versions,
      initial: init,
      registerOnly: versions.filter((v) => rvRegisterOnly(insnOf.get(v)!)),
    });
    // A version that jumps must name a label of the thread whose code it replaces.
    for (const v of versions) {
      const i = insnOf.get(v)!;
      if ((i.k === "jal" || i.k === "branch") && labelPos(thread, i.label) < 0)
        fail(
          `instr:"${rvText(i)}" stored at P${thread}:${test.threads[thread].code[pos].labels[0]}: P${thread} has no label "${i.label}"`,
          test.threads[thread].code[pos].insn!,
        );
    }
  }
  const versionsOf = new Map(regions.map((r) => [r.name, r.versions]));

  // The condition, with herd7's values as the machine's names.
  const rewritten = rewriteCondition(
    test,
    {
      insn: (t) => {
        const i = decodeRv(t, (msg, instruction) => fail(msg, test.condition, instruction));
        const s = rvSymbol(i);
        instructions[s] ??= rvText(i);
        return s;
      },
      register: rvReg,
      location: (l) => void (data[l] ??= 0),
    },
    fail,
  );

  const { condition: cond, observed, regs: condRegs } = rewritten;

  const cpus: CpuSpec[] = test.threads.map((_th, ti) =>
    translateThread(test, ti, {
      fail,
      labelPos,
      regionAt,
      versionsOf,
      insnOf,
      condRegs: condRegs.get(ti) ?? new Set(),
      archInsns: Object.keys(archDef!.instructions),
    }),
  );
  const spec = specOf(test, { arch, data, regions, cpus, condition: cond });
  const regionInfo: Record<string, string> = {};
  for (const [name, { thread, pos }] of regionPos)
    regionInfo[name] = `P${thread}:${test.threads[thread].code[pos].labels[0]}`;
  return { spec, arch, condition: cond, instructions, regions: regionInfo, observed };
}

interface Ctx {
  fail: Fail;
  labelPos: (th: number, lab: string) => number;
  regionAt: Map<string, string>;
  versionsOf: Map<string, string[]>;
  insnOf: Map<string, RvInsn>;
  condRegs: Set<string>;
  archInsns: string[];
}

/** The arch instruction of a FENCE: "fence rw,rw"; "fence" alone is "fence iorw,iorw". */
function fenceName(i: RvInsn & { k: "fence" }): string {
  return `fence ${i.pred},${i.succ}`;
}
function translateThread(test: RiscvTest, ti: number, ctx: Ctx): CpuSpec {
  const { fail } = ctx;
  const init = new Map<string, RvInit>();
  for (const e of test.init) if (e.thread === ti) init.set(e.name, e);

  // Registers some reachable instruction writes: a jalr through one of them has no static target.
  const key = (k: number, p: number) => `${k}:${p}`;
  const insnsAt = (k: number, p: number): RvInsn[] => {
    const c = test.threads[k].code[p];
    if (!c.insn) return [];
    const r = ctx.regionAt.get(key(k, p));
    return r ? ctx.versionsOf.get(r)!.map((v) => ctx.insnOf.get(v)!) : [c.insn.insn];
  };
  const written = new Set<string>();
  const staticTarget = (rs: string): [number, number] | null => {
    const v = init.get(rs)?.value;
    if (written.has(rs) || v?.k !== "label") return null;
    return [v.thread, ctx.labelPos(v.thread, v.label)];
  };
  // Reachable positions (k = whose code, p = position) from this thread's start.
  const reached = new Set<string>();
  const blocks: number[] = [ti];
  const returns = new Set<string>();
  for (let size = -1; size !== reached.size + returns.size + written.size;) {
    size = reached.size + returns.size + written.size;
    reached.clear();
    const work: [number, number][] = [[ti, 0]];
    while (work.length) {
      const [k, p] = work.pop()!;
      if (reached.has(key(k, p))) continue;
      reached.add(key(k, p));
      if (!blocks.includes(k)) blocks.push(k);
      for (const i of insnsAt(k, p)) {
        for (const r of rvWrites(i)) written.add(r);
        const to = (q: number, kk = k) => work.push([kk, q]);
        switch (i.k) {
          case "jal":
            to(ctx.labelPos(k, i.label));
            if (i.rd !== "zero") returns.add(key(k, p + 1));
            break;
          case "branch":
            to(ctx.labelPos(k, i.label));
            to(p + 1);
            break;
          case "jalr": {
            const t = staticTarget(i.rs1);
            if (t) to(t[1], t[0]);
            else for (const r of returns) to(Number(r.split(":")[1]), Number(r.split(":")[0]));
            if (i.rd !== "zero") returns.add(key(k, p + 1));
            break;
          }
          default:
            to(p + 1);
        }
      }
    }
  }

  const labelName = (k: number, p: number): string => {
    const own = test.threads[k].code[p].labels[0] ?? `@${p}`;
    return k === ti ? own : `P${k}.${own}`;
  };
  const ops: Op[] = [];
  const operand = (e: RvInit): Operand => {
    const v = e.value;
    if (v.k !== "int") return initOperand(v, rvSymbol);
    if (v.value < 0n || v.value > MAX_INT)
      fail(`${ti}:${e.name}: the value ${v.value} is outside the machine's integers 0..99`, e);
    return { imm: Number(v.value) };
  };
  for (const [r, e] of init) {
    const src = operand(e);
    if ("imm" in src && src.imm === 0) continue; // registers start at 0
    ops.push({ op: "mov", dst: r, src, pos: posOf(e) });
  }
  for (const r of ctx.condRegs)
    if (!init.has(r) || ops.every((o) => o.op !== "mov" || o.dst !== r))
      ops.push({ op: "mov", dst: r, src: { imm: 0 } });

  /** Ops of one instruction at position p of block k; false when it does not fall through. */
  const emit = (out: Op[], k: number, p: number, i: RvInsn, at: At, text: string): boolean => {
    const P = posOf(at);
    /** An instruction of the architecture's table at this position; it falls through. */
    const insn = (name: string): true => {
      out.push({ op: "insn", name, pos: P });
      return true;
    };
    const target = (lab: string) => {
      const q = ctx.labelPos(k, lab);
      if (q < 0) fail(`P${k} has no label "${lab}"`, at, text);
      return labelName(k, q);
    };
    const imm = (v: bigint): Operand => {
      if (v < 0n || v > MAX_INT)
        fail(`the immediate ${v} is outside the machine's integers 0..99: "${text}"`, at, text);
      return { imm: Number(v) };
    };
    const noOffset = (off: bigint) => {
      if (off !== 0n) fail(`an address offset other than 0 is not supported: "${text}"`, at, text);
    };
    const dst = (rd: string) => {
      if (rd === "zero") fail(`writing x0 (zero) is not supported: "${text}"`, at, text);
      return rd;
    };
    switch (i.k) {
      case "li":
        out.push({ op: "mov", dst: dst(i.rd), src: imm(i.imm), pos: P });
        return true;
      case "mv":
        out.push({ op: "mov", dst: dst(i.rd), src: { reg: i.rs }, pos: P });
        return true;
      case "alu": {
        const fn = i.fn === "xor" ? "eor" : i.fn === "or" ? "orr" : i.fn;
        const b: Operand = i.rs2 === null ? imm(i.imm) : { reg: i.rs2 };
        out.push({ op: "alu", fn, dst: dst(i.rd), a: i.rs1, b, pos: P });
        return true;
      }
      case "load":
        noOffset(i.off);
        out.push({ op: "ldr", dst: dst(i.rd), addr: i.rs1, pos: P });
        return true;
      case "store":
        noOffset(i.off);
        out.push({ op: "str", src: i.rs2, addr: i.rs1, pos: P });
        return true;
      case "jal":
        if (i.rd === "zero") out.push({ op: "b", target: target(i.label), pos: P });
        else out.push({ op: "bl", target: target(i.label), link: i.rd, pos: P });
        return i.rd !== "zero";
      case "jalr": {
        const t = staticTarget(i.rs1);
        if (t) {
          const lab = labelName(t[0], t[1]);
          if (i.rd === "zero") out.push({ op: "b", target: lab, pos: P });
          else out.push({ op: "bl", target: lab, link: i.rd, pos: P });
        } else
          out.push({ op: "br", reg: i.rs1, ...(i.rd !== "zero" ? { link: i.rd } : {}), pos: P });
        return i.rd !== "zero";
      }
      case "branch":
        if (i.rs2 === "zero") {
          const op = i.cond === "eq" ? "cbz" : "cbnz";
          out.push({ op, reg: i.rs1, target: target(i.label), pos: P });
        } else {
          out.push({ op: "cmp", a: i.rs1, b: { reg: i.rs2 }, pos: P });
          const cond = i.cond === "eq" ? "EQ" : "NE";
          out.push({ op: "bcond", cond, target: target(i.label), pos: P });
        }
        return true;
      case "nop":
        return true;
      case "fence.i":
        return insn("fence.i");
      case "fence": {
        const name = fenceName(i);
        if (!ctx.archInsns.includes(name))
          fail(`FENCE ${i.pred},${i.succ} is not modelled on riscv64: "${text}"`, at, text);
        return insn(name);
      }
      case "sfence.vma":
        return insn("sfence.vma");
    }
  };

  ops.push(
    ...layoutProgram<RvInsn>({
      blocks,
      code: (k) => test.threads[k].code,
      reached: (k, p) => reached.has(key(k, p)),
      regionAt: (k, p) => ctx.regionAt.get(key(k, p)),
      versionsOf: (region) => ctx.versionsOf.get(region)!,
      insnOf: (v) => ctx.insnOf.get(v)!,
      labelName,
      emit,
      jumpOf: (i, k, p) =>
        i.k === "nop" ? p + 1 : i.k === "jal" && i.rd === "zero" ? ctx.labelPos(k, i.label) : null,
      versionText: (_region, v, k, p) =>
        `${rvText(ctx.insnOf.get(v)!)} (at P${k}:${test.threads[k].code[p].labels[0] ?? p})`,
      endUnreached: true,
    }),
  );
  return { program: ops };
}

/** Translates and runs a RISC-V test; `opts.arch` picks the riscv64 variant. */
export function runRiscvTest(
  test: RiscvTest,
  opts: LitmusOptions & RiscvTranslateOptions = {},
): LitmusResult {
  const t0 = performance.now();
  const tr = translateRiscv(test, { arch: opts.arch });
  const r = explore(tr.spec, { ...opts, witnesses: !!opts.witnesses });
  return herdResult(test, tr, r, (performance.now() - t0) / 1000);
}
