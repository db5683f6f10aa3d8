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
import type { CpuSpec, RegionSpec } from "../scenario/spec";
import { failIn } from "./frame";
import {
  cmodxKind,
  decodeEncoding,
  decodeInsn,
  insnSymbol,
  insnText,
  type Insn,
  type Target,
} from "./insn";
import { regName, type InitValue, type LitmusTest } from "./parse";
import type { At } from "./frame";
import { faultReg, writes } from "./aarch64-emit";
import { translateThread } from "./aarch64-thread";
import {
  dataLocations,
  labelPos as labelPosIn,
  labelRegions,
  MAX_INT,
  regionName,
  rewriteCondition,
  specOf,
  type Translation,
} from "./translation";

/** CTR_EL0 as the model's arm64 variants have it: IminLine = DminLine = 4 (64-byte lines). */
export function ctrEl0(idc: boolean, dic: boolean): bigint {
  return (dic ? 1n << 29n : 0n) | (idc ? 1n << 28n : 0n) | (4n << 16n) | 4n | (1n << 31n);
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
  const fail = failIn(file);
  const arch = archFor(opts.cacheType ?? test.cacheType);
  const archDef = architectures[arch];
  const nThreads = test.threads.length;
  if (nThreads > 8)
    fail(`at most 8 threads are supported, got ${nThreads}`, { line: 1, column: 1 });

  const labelPos = (th: number, lab: string): number => labelPosIn(test, th, lab);

  const data = dataLocations(test, fail);
  // Every code label held by a register is a code region; so is code addressed with an
  // immediate offset from one ([X1,#4] with X1=P1:m0: the next instruction).
  const regionOf = labelRegions(test, fail);
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
  const targetPos = (th: number, pos: number, t: Target, at: At): number => {
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
  const relative = (th: number, pos: number, i: Insn, at: At): Insn => {
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
  const warnings: string[] = [];
  const cond = rewriteCondition(
    test,
    {
      insn: (text) => {
        const i = decodeInsn(text, (msg, instruction) => fail(msg, test.condition, instruction));
        if ("target" in i && "label" in i.target)
          fail(
            `instruction values in conditions need relative targets (".+n"): "${text}"`,
            test.condition,
          );
        const sym = insnSymbol(i);
        if (!(sym in instructions)) instructions[sym] = insnText(i);
        return sym;
      },
      register: (r) => {
        const x = regName(r);
        return x !== null && /^X\d+$/.test(x) ? x : null;
      },
      location: (n) => {
        if (!(n in data) && !warnings.some((w) => w.includes(`"${n}"`)))
          warnings.push(
            `the condition reads "${n}", which the initial state does not declare; it reads 0 (herd7 accepts this too)`,
          );
        data[n] ??= 0;
      },
      // fault(P0:l) / fault(P0:l,x) / fault(P0) / fault(P0,x): a fault taken by P0 (at l). Only
      // instruction faults exist without page tables, so a fault on a data location never
      // happens.
      before: (s, reads) =>
        s.replace(
          /fault\s*\(\s*P(\d+)\s*(?::\s*([A-Za-z_][\w.]*))?\s*(?:,\s*([^)]*?))?\s*\)/g,
          (_m, th: string, lab: string | undefined, loc: string | undefined) => {
            if (loc !== undefined && loc.trim() !== "" && !/^P\d+\s*:/.test(loc.trim()))
              return "false";
            return `${reads(Number(th), faultReg(lab))}=1`;
          },
        ),
      // Values beyond the machine's integers are instruction encodings.
      after: (s) =>
        s.replace(/=\s*(0x[0-9a-fA-F]+|\d+)\b/g, (_m, n: string) => {
          const v = BigInt(n);
          return `=${v <= MAX_INT ? v.toString() : insnSymbol(bigValue(v, decode))}`;
        }),
    },
    fail,
  );
  const { condition, observed, regs: condRegs } = cond;
  // A malformed condition is reported now, at the condition, not after the exploration.
  try {
    parseCondition(condition);
  } catch (e) {
    if (!(e instanceof ConditionError)) throw e;
    fail(`final condition: ${e.message.replace(/^\d+:\d+: /, "")}`, test.condition);
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
      insnOf,
      versionsOf: new Map(regions.map((r) => [r.name, r.versions])),
      condRegs: condRegs.get(ti) ?? new Set(),
      ctr: ctrEl0(!!archDef?.idc, !!archDef?.dic),
      archInsns: archDef ? Object.keys(archDef.instructions) : [],
      alias: shapes.indexOf(shapes[ti]),
      codeInts,
      entrySyncs: archDef?.exceptions.entrySyncs ?? true,
      returnSyncs: archDef?.exceptions.returnSyncs ?? true,
      bigValue: (v) => bigValue(v, decode),
    }),
  );

  const spec = specOf(test, { arch, data, regions, cpus, condition });
  return { spec, arch, condition, instructions, regions: regionInfo, observed, warnings };
}
