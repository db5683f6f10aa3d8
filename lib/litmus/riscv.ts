/**
 * herd7 RISC-V instruction-fetch litmus tests (`RISCV NAME`, `Variant=self`) on the riscv64
 * machine: reading them (the common layout is frame.ts, instructions riscv-insn.ts) and their
 * translation into a ScenarioSpec, as translate.ts does for AArch64:
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
import type { SourcePos } from "../model";
import type { CpuSpec, Op, Operand, RegionSpec, ScenarioSpec } from "../scenario/spec";
import { checkLabels, failIn, LitmusError, readCode, readFrame, readLitmusFile } from "./frame";
import type { CodeAt } from "./frame";
import {
  decodeRv,
  rvReg,
  rvRegisterOnly,
  rvSymbol,
  rvText,
  rvWrites,
  type RvInsn,
} from "./riscv-insn";
import type { Translation } from "./translate";
import { herdResult, type LitmusOptions, type LitmusResult } from "./run";
import { explore } from "../explorer/explore";

export type RvValue =
  | { k: "int"; value: bigint }
  | { k: "loc"; name: string }
  | { k: "label"; thread: number; label: string }
  | { k: "instr"; text: string; insn: RvInsn };

export interface RvInit {
  thread: number | null;
  name: string;
  value: RvValue;
  line: number;
  column: number;
}

export type RvCode = CodeAt<RvInsn>;

export interface RiscvTest {
  file: string;
  arch: "RISCV";
  name: string;
  header: Record<string, string>;
  init: RvInit[];
  threads: { name: string; code: RvCode[] }[];
  condition: { text: string; line: number; column: number };
  locations: string[];
}

const MAX_INT = 99n;

/** Reads and parses a RISC-V litmus file. */
export function loadRiscvLitmus(path: string): RiscvTest {
  return parseRiscvLitmus(readLitmusFile(path), path);
}

/** Parses the text of a herd7 RISC-V litmus file; errors are LitmusErrors with file:line:col. */
export function parseRiscvLitmus(source: string, file = "<litmus>"): RiscvTest {
  const f = readFrame(source, file, "RISCV");
  const fail = failIn(file);
  const variant = (f.header.Variant ?? "")
    .split(/[,\s]+/)
    .map((x) => x.trim().toLowerCase())
    .filter(Boolean);
  if (variant.includes("vm"))
    fail(
      "unsupported: page-table state (Variant=vm: virtual-memory tests need page-table initial values)",
      { line: f.headerLines.Variant, column: 1 },
      "Variant=vm",
    );

  const init: RvInit[] = [];
  for (const e of f.init) {
    const eq = e.text.indexOf("=");
    if (eq < 0) fail(`expected "T:reg=value" or "location=value", got "${e.text}"`, e);
    const lhs = e.text.slice(0, eq).trim();
    const rhs = e.text.slice(eq + 1).trim();
    if (/[()]/.test(lhs) || /^\(|\b(oa|PTE|PA|TTD)\b/.test(rhs))
      fail(`unsupported: page-table state "${e.text}"`, e, e.text);
    let thread: number | null = null;
    let name: string;
    const rm = /^(\d+)\s*:\s*(\w+)$/.exec(lhs);
    if (rm) {
      thread = Number(rm[1]);
      const r = rvReg(rm[2]);
      if (!r) fail(`"${rm[2]}" is not a RISC-V register (x0..x31 or an ABI name)`, e);
      if (r === "zero") fail("x0 (zero) cannot be given a value", e);
      name = r!;
    } else {
      const lm = /^(?:[A-Za-z_]\w*\s+)?\*?\s*([A-Za-z_]\w*)$/.exec(lhs);
      if (!lm) fail(`expected "T:reg=value" or "location=value", got "${e.text}"`, e);
      name = lm![1];
    }
    init.push({ thread, name, value: parseValue(rhs, e, fail), line: e.line, column: e.column });
  }

  const handler = f.columns.find((c) => c.handler);
  if (handler)
    fail(
      `fault handlers ("${handler.text}") are not supported in RISC-V tests`,
      handler,
      handler.text,
    );
  const cols = readCode(
    f,
    (text, at) => decodeRv(text, (msg, instruction) => fail(msg, at, instruction)),
    (name) => rvReg(name) === null,
  );
  const threads = f.threads.map((t, ti) => ({
    name: t.text,
    code: [...cols[ti].code, { labels: cols[ti].after, insn: null }] as RvCode[],
  }));
  checkLabels(threads, fail, f.threads[0]);
  return {
    file,
    arch: "RISCV",
    name: f.name,
    header: f.header,
    init,
    threads,
    condition: f.condition,
    locations: f.locations,
  };
}

function parseValue(
  v: string,
  at: { line: number; column: number },
  fail: (msg: string, at: { line: number; column: number }, instruction?: string) => never,
): RvValue {
  const im = /^instr\s*:\s*"([^"]*)"$/.exec(v);
  if (im) {
    const insn = decodeRv(im[1], (msg, instruction) => fail(msg, at, instruction));
    return { k: "instr", text: im[1].trim(), insn };
  }
  if (/^-?(0x[0-9a-fA-F]+|\d+)$/.test(v))
    return { k: "int", value: v.startsWith("-") ? -BigInt(v.slice(1)) : BigInt(v) };
  const lab = /^P(\d+)\s*:\s*([A-Za-z_][\w.]*)$/.exec(v);
  if (lab) return { k: "label", thread: Number(lab[1]), label: lab[2] };
  const loc = /^&?\s*([A-Za-z_]\w*)$/.exec(v);
  if (loc) return { k: "loc", name: loc[1] };
  return fail(`cannot read the initial value "${v}"`, at, v);
}

export interface RiscvTranslateOptions {
  /** A riscv64 variant of lib/arch (default "riscv64"). */
  arch?: string;
}

/** The code region standing for label `label` of thread `thread`: "P1_mod". */
export function regionOfLabel(thread: number, label: string): string {
  return `P${thread}_${label}`;
}

/** Translates a RISC-V test into a scenario for a riscv64 variant. */
export function translateRiscv(test: RiscvTest, opts: RiscvTranslateOptions = {}): Translation {
  const file = test.file;
  const fail = (msg: string, at: { line: number; column: number }, instruction?: string): never => {
    throw new LitmusError(msg, file, at.line, at.column, instruction);
  };
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
  const labelPos = (th: number, lab: string) =>
    test.threads[th].code.findIndex((c) => c.labels.includes(lab));

  // Data locations.
  const data: Record<string, number> = {};
  for (const e of test.init) {
    if (e.thread === null) {
      if (e.value.k !== "int" || e.value.value < 0n || e.value.value > MAX_INT)
        fail(`location ${e.name}: the initial value must be an integer 0..99`, e);
      data[e.name] = Number((e.value as { value: bigint }).value);
    } else if (e.thread >= n) fail(`${e.thread}:${e.name}: there is no thread P${e.thread}`, e);
  }
  for (const e of test.init) if (e.value.k === "loc") data[e.value.name] ??= 0;

  // Code regions: every code label a register holds.
  const regionAt = new Map<string, string>(); // "k:p" -> region
  const regionPos = new Map<string, { thread: number; pos: number }>();
  for (const e of test.init) {
    if (e.value.k !== "label") continue;
    const { thread, label } = e.value;
    if (thread >= n) fail(`P${thread}:${label}: there is no thread P${thread}`, e);
    const pos = labelPos(thread, label);
    if (pos < 0) fail(`P${thread}:${label}: P${thread} has no label "${label}"`, e);
    if (test.threads[thread].code[pos].insn === null)
      fail(`P${thread}:${label} labels the end of the program, which holds no instruction`, e);
    const name = regionOfLabel(thread, label);
    regionAt.set(`${thread}:${pos}`, name);
    regionPos.set(name, { thread, pos });
  }

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
  const observed: string[] = [];
  const condRegs = new Map<number, Set<string>>();
  const seeName = (nm: string) => {
    if (!observed.includes(nm)) observed.push(nm);
  };
  let cond = test.condition.text;
  cond = cond.replace(/instr\s*:\s*"([^"]*)"/g, (_m, t: string) => {
    const i = decodeRv(t, (msg, instruction) => fail(msg, test.condition, instruction));
    const s = rvSymbol(i);
    instructions[s] ??= rvText(i);
    return s;
  });
  cond = cond.replace(/(\d+)\s*:\s*(\w+)/g, (m, th: string, r: string) => {
    const reg = rvReg(r);
    if (!reg) return m;
    const t = Number(th);
    if (t >= n)
      fail(`the condition reads ${th}:${r}, but there is no thread P${t}`, test.condition);
    if (!condRegs.has(t)) condRegs.set(t, new Set());
    condRegs.get(t)!.add(reg);
    seeName(`${t}:${reg}`);
    return `${t}:${reg}`;
  });
  cond = cond.replace(/\[\s*([A-Za-z_]\w*)\s*\]/g, (_m, l: string) => l);
  cond = cond.replace(
    /(^|[\s(/\\~])([A-Za-z_]\w*)\s*(!?=)/g,
    (m, pre: string, l: string, op: string) => {
      if (/^(exists|forall|true|false)$/.test(l)) return m;
      data[l] ??= 0;
      seeName(l);
      return `${pre}${l}${op}`;
    },
  );
  cond = cond.replace(/^~\s*exists/, "~exists");
  for (const l of test.locations) {
    const t = l.trim();
    const m = /^(\d+)\s*:\s*(\w+)$/.exec(t);
    const nm = m ? `${m[1]}:${rvReg(m[2]) ?? m[2]}` : t.replace(/^\[|\]$/g, "");
    seeName(nm);
  }

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
  const spec: ScenarioSpec = {
    name: test.name,
    arch,
    data,
    regions,
    cpus,
    condition: cond,
    doc: `herd7 litmus test ${test.name} (${file})`,
  };
  const regionInfo: Record<string, string> = {};
  for (const [name, { thread, pos }] of regionPos)
    regionInfo[name] = `P${thread}:${test.threads[thread].code[pos].labels[0]}`;
  return { spec, arch, condition: cond, instructions, regions: regionInfo, observed };
}

interface Ctx {
  fail: (msg: string, at: { line: number; column: number }, instruction?: string) => never;
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
  const END = "@end";
  const pos = (at: { line: number; column: number }): SourcePos => ({
    line: at.line,
    column: at.column,
  });

  const ops: Op[] = [];
  const operand = (e: RvInit): Operand => {
    const v = e.value;
    switch (v.k) {
      case "int":
        if (v.value < 0n || v.value > MAX_INT)
          fail(`${ti}:${e.name}: the value ${v.value} is outside the machine's integers 0..99`, e);
        return { imm: Number(v.value) };
      case "loc":
        return { addr: v.name };
      case "label":
        return { addr: regionOfLabel(v.thread, v.label) };
      case "instr":
        return { insn: rvSymbol(v.insn) };
    }
  };
  for (const [r, e] of init) {
    const src = operand(e);
    if ("imm" in src && src.imm === 0) continue; // registers start at 0
    ops.push({ op: "mov", dst: r, src, pos: pos(e) });
  }
  for (const r of ctx.condRegs)
    if (!init.has(r) || ops.every((o) => o.op !== "mov" || o.dst !== r))
      ops.push({ op: "mov", dst: r, src: { imm: 0 } });

  /** Ops of one instruction at position p of block k; false when it does not fall through. */
  const emit = (
    out: Op[],
    k: number,
    p: number,
    i: RvInsn,
    at: { line: number; column: number },
    text: string,
  ): boolean => {
    const P = pos(at);
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
        out.push({ op: "insn", name: "fence.i", pos: P });
        return true;
      case "fence": {
        const name = fenceName(i);
        if (!ctx.archInsns.includes(name))
          fail(`FENCE ${i.pred},${i.succ} is not modelled on riscv64: "${text}"`, at, text);
        out.push({ op: "insn", name, pos: P });
        return true;
      }
      case "sfence.vma":
        out.push({ op: "insn", name: "sfence.vma", pos: P });
        return true;
    }
  };

  const tail: Op[] = [];
  for (const k of blocks) {
    const code = test.threads[k].code;
    code.forEach((c, p) => {
      if (!reached.has(key(k, p))) return;
      ops.push({ op: "label", name: labelName(k, p) });
      if (!c.insn) {
        ops.push({ op: "b", target: END });
        return;
      }
      const region = ctx.regionAt.get(key(k, p));
      if (!region) {
        if (!emit(ops, k, p, c.insn.insn, c.insn, c.insn.text)) return;
        if (!reached.has(key(k, p + 1))) ops.push({ op: "b", target: END });
        return;
      }
      const dispatch: Record<string, string> = {};
      for (const v of ctx.versionsOf.get(region)!) {
        const i = ctx.insnOf.get(v)!;
        if (i.k === "nop") {
          dispatch[v] = labelName(k, p + 1);
          continue;
        }
        if (i.k === "jal" && i.rd === "zero") {
          dispatch[v] = labelName(k, ctx.labelPos(k, i.label));
          continue;
        }
        const lab = `${labelName(k, p)}=${v}`;
        dispatch[v] = lab;
        tail.push({ op: "label", name: lab });
        const text = `${rvText(i)} (at P${k}:${c.labels[0] ?? p})`;
        if (emit(tail, k, p, i, c.insn, text)) tail.push({ op: "b", target: labelName(k, p + 1) });
      }
      ops.push({ op: "exec", region, dispatch, pos: pos(c.insn) });
    });
  }
  ops.push(...tail);
  ops.push({ op: "label", name: END });
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
