/**
 * Reader of herd7 AArch64 litmus files: the subset that the instruction-fetch tests use
 * (Simner et al., ESOP 2020; herdtools7 `-variant ifetch`).
 *
 *   AArch64 NAME
 *   CacheType=IDC|DIC            (optional; other `Key=Value` and "doc" header lines are kept)
 *   { 0:X0=instr:"B .+4"; 0:X1=P1:f; 1:X2=x; int64_t y; }
 *    P0          | P1          ;
 *   STR W0,[X1]  | BL f        ;
 *                | f: B l0     ;
 *   exists (1:X0=2 /\ 1:X1=1)
 *
 * Comments `(* ... *)` may appear anywhere. parseLitmus() gives the file's structure with the
 * position of every instruction; instructions are decoded by insn.ts, and anything outside the
 * subset is a LitmusError naming the file, line, column and instruction.
 */
import { checkLabels, failIn, LitmusError, readCode, readFrame, readLitmusFile } from "./frame";
import { headerValues, readInitTarget, readValue } from "./frame";
import type { At, CodeAt, Fail, InitValueOf } from "./frame";
import { decodeInsn, type Insn } from "./insn";

/** A value in the initial state; an instruction may be written bare: `NOP`, `B l0`. */
export type InitValue = InitValueOf<Insn>;

export interface InitEntry {
  /** Thread of a register entry; null for a data location. */
  thread: number | null;
  /** Register (canonical "X0") or location name. */
  name: string;
  value: InitValue | null;
  /** Declared type (int64_t, ...), if any. */
  type?: string;
  line: number;
  column: number;
}

export interface LitmusInsn {
  insn: Insn;
  text: string;
  line: number;
  column: number;
}

/** One position of a thread's code: the labels before it and its instruction (none at the end). */
export type CodePos = CodeAt<Insn>;

export interface LitmusThread {
  name: string;
  /**
   * Instructions in order; the labels of position i are attached to it (or to the end). A
   * position without an instruction ends the code. With a fault handler (a `P0.F` column) the
   * handler's code follows the thread's end, from `handlerStart`, with its own end.
   */
  code: CodePos[];
  /** Position of the fault handler's first instruction (the `Pn.F` column), if any. */
  handlerStart?: number;
}

export interface LitmusTest {
  file: string;
  arch: string;
  name: string;
  /** Header lines `Key=Value`, in order. */
  header: Record<string, string>;
  /** Quoted documentation strings of the header. */
  doc: string[];
  cacheType: { idc: boolean; dic: boolean };
  init: InitEntry[];
  threads: LitmusThread[];
  /** The final condition as written (comments removed). */
  condition: { text: string; line: number; column: number };
  /** `locations [...]` clause: extra names to show. */
  locations: string[];
}

/** Reads and parses a litmus file; errors name the path as given. */
export function loadLitmus(path: string): LitmusTest {
  return parseLitmus(readLitmusFile(path), path);
}

/** Canonical register name: W3/X3/w3/x3 -> X3; XZR/WZR -> XZR; SP stays SP. */
export function regName(r: string): string | null {
  const m = /^([WwXx])(\d{1,2})$/.exec(r.trim());
  if (m) {
    const n = Number(m[2]);
    return n <= 30 ? `X${n}` : null;
  }
  const u = r.trim().toUpperCase();
  if (u === "XZR" || u === "WZR") return "XZR";
  if (u === "SP" || u === "WSP") return "SP";
  return null;
}

/** Parses the text of a herd7 AArch64 litmus file. */
export function parseLitmus(source: string, file = "<litmus>"): LitmusTest {
  const f = readFrame(source, file, "AArch64");
  const fail = failIn(file);
  const ct = f.header.CacheType;
  const cacheType =
    ct === undefined
      ? { idc: false, dic: false }
      : parseCacheType(ct.text, file, ct.line, ct.column);
  const decode = (text: string, at: At) =>
    decodeInsn(text, (msg, instruction) => fail(msg, at, instruction));
  const init = f.init.map((e) => parseInit(e.text, e, fail, decode));
  const cols = readCode(f, decode);
  // A thread's code, its end, then its fault handler's code (a `Pn.F` column) and its end.
  const threads: LitmusThread[] = f.threads.map((t, ti) => {
    const ci = f.columns.findIndex((c) => c.thread === ti && !c.handler);
    const code: CodePos[] = [...cols[ci].code, { labels: cols[ci].after, insn: null }];
    const hi = f.columns.findIndex((c) => c.thread === ti && c.handler);
    if (hi < 0) return { name: t.text, code };
    const handlerStart = code.length;
    code.push(...cols[hi].code, { labels: cols[hi].after, insn: null });
    return { name: t.text, code, handlerStart };
  });
  checkLabels(threads, fail, f.threads[0]);
  return {
    file,
    arch: f.arch,
    name: f.name,
    header: headerValues(f),
    doc: f.doc,
    cacheType,
    init,
    threads,
    condition: f.condition,
    locations: f.locations,
  };
}

function parseCacheType(v: string, file: string, line: number, col: number) {
  try {
    return cacheTypeOf(v);
  } catch (e) {
    throw new LitmusError(`CacheType: ${(e as Error).message}`, file, line, col);
  }
}

/**
 * CTR_EL0's IDC and DIC bits from a cache-type text: "IDC", "DIC", "IDC DIC" (or "|", ","
 * separated), "none", or herd7's catalogue directory names "DIC0-IDC0", "DIC0-IDC1",
 * "DIC1-IDC1". Throws an Error naming the unknown part.
 */
export function cacheTypeOf(v: string): { idc: boolean; dic: boolean } {
  const dir = /^DIC([01])-IDC([01])$/i.exec(v.trim());
  if (dir) return { dic: dir[1] === "1", idc: dir[2] === "1" };
  const parts = v
    .split(/[|,\s+]+/)
    .map((x) => x.trim().toUpperCase())
    .filter(Boolean);
  const out = { idc: false, dic: false };
  for (const p of parts) {
    if (p === "IDC") out.idc = true;
    else if (p === "DIC") out.dic = true;
    else if (p !== "NONE")
      throw new Error(
        `unknown cache type "${p}" (expected IDC, DIC, "IDC DIC", none, or DIC0-IDC0 / DIC0-IDC1 / DIC1-IDC1)`,
      );
  }
  return out;
}

/** Parses one entry of the initial state "{ ... }". */
function parseInit(
  t: string,
  p: At,
  fail: Fail,
  decode: (text: string, at: At) => Insn,
): InitEntry {
  const failHere = (msg: string, instruction?: string): never => fail(msg, p, instruction);
  let rest = t;
  let type: string | undefined;
  // Typed declarations: "int64_t x", "ins_t *1:X1", "void *1:X9", "ins_t* z".
  const tm =
    /^(u?int(?:8|16|32|64)?_t|int|long|char|short|intptr_t|instr_t|ins_t|void)\b\s*(\*?)\s*(\S.*)$/.exec(
      rest,
    );
  if (tm) {
    type = tm[1] + tm[2];
    rest = tm[3].trim();
  }
  if (PAGE_TABLE.test(t))
    failHere(`page-table state is not supported ("${t}"): the front-end has no page tables`, t);
  const eq = rest.indexOf("=");
  const lhs = (eq < 0 ? rest : rest.slice(0, eq)).trim();
  const rhs = eq < 0 ? null : rest.slice(eq + 1).trim();
  const { thread, name } = readInitTarget(
    lhs,
    (x) => {
      const r = regName(x);
      if (!r || r === "XZR" || r === "SP")
        failHere(`"${x}" is not a general-purpose register (X0..X30, W0..W30)`);
      return r!;
    },
    /^\[?\s*([A-Za-z_]\w*)\s*\]?$/,
    () => failHere(`expected "T:Xn=value", "location=value" or a declaration, got "${t}"`),
  );
  const at = { line: p.line, column: p.column };
  if (rhs === null) {
    if (!type) failHere(`expected "=" in "${t}"`);
    return { thread, name, value: null, type, ...at };
  }
  return { thread, name, value: readValue(rhs, p, fail, decode, BARE), type, ...at };
}

/** A bare instruction (herd7: "0:X0=NOP;", "0:X0=B l0;"): an upper-case mnemonic. */
const BARE = /^[A-Z][A-Z0-9]*(\.[A-Z]{2})?(\s|$)/;

/** Page-table initial state (herd7 -variant vmsa): PTE(x), PA(x), (oa:PA(x)), phy_x, TTD... */
const PAGE_TABLE =
  /\b(PTE|PA|TTD|AF|DB|valid)\s*\(|\(\s*oa\s*:|\bphy_\w|\bpte_\w|\bdb\s*:|\bdbm\s*:|\bvalid\s*:/;
