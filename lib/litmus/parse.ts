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
import { readFileSync } from "fs";
import { decodeInsn, type Insn } from "./insn";

/** Anything the reader or the translation cannot take: file, line, column and the reason. */
export class LitmusError extends Error {
  constructor(
    public readonly reason: string,
    public readonly file: string,
    public readonly line: number,
    public readonly column: number,
    /** The instruction (or construct) outside the supported subset, when that is the cause. */
    public readonly instruction?: string,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = "LitmusError";
  }
  /** True when the file is well-formed herd7 but uses something outside the subset. */
  get unsupported(): boolean {
    return this.instruction !== undefined;
  }
}

/** A value in the initial state. */
export type InitValue =
  | { k: "int"; value: bigint; text: string }
  /** Address of a data location. */
  | { k: "loc"; name: string }
  /** Address of a code label of thread `thread`. */
  | { k: "label"; thread: number; label: string }
  /** An instruction value, `instr:"B .+4"`, or written bare: `NOP`, `B l0`. */
  | { k: "instr"; text: string; insn: Insn };

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
export interface CodePos {
  labels: string[];
  insn: LitmusInsn | null;
}

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
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new LitmusError(`cannot read: ${(e as Error).message}`, path, 1, 1);
  }
  return parseLitmus(text, path);
}

/** Blank out `(* ... *)` comments (nested, as in OCaml), keeping line and column positions. */
export function stripComments(text: string, file = "<litmus>"): string {
  const out = text.split("");
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (depth === 0 && c === '"') inString = !inString;
    if (inString && depth === 0) continue;
    if (c === "(" && text[i + 1] === "*") {
      if (depth === 0) start = i;
      depth++;
      out[i] = " ";
      out[i + 1] = " ";
      i++;
      continue;
    }
    if (depth > 0 && c === "*" && text[i + 1] === ")") {
      depth--;
      out[i] = " ";
      out[i + 1] = " ";
      i++;
      continue;
    }
    if (depth > 0 && c !== "\n") out[i] = " ";
  }
  if (depth > 0) {
    const [l, col] = lineCol(text, start);
    throw new LitmusError("unterminated comment", file, l, col);
  }
  return out.join("");
}

function lineCol(text: string, at: number): [number, number] {
  let l = 1;
  let c = 1;
  for (let i = 0; i < at && i < text.length; i++) {
    if (text[i] === "\n") {
      l++;
      c = 1;
    } else c++;
  }
  return [l, c];
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

const CONDITION_START = /^\s*(~\s*exists|exists|forall|locations|filter)\b/;

/** Parses the text of a herd7 AArch64 litmus file. */
export function parseLitmus(source: string, file = "<litmus>"): LitmusTest {
  // The Linux-kernel memory model's C dialect (`C NAME`, `P0(int *x)`) is the scenario format's.
  const first = /^\s*(\S+)/.exec(source);
  if (first && first[1] === "C") {
    const [line, column] = lineCol(source, first.index + first[0].length - 1);
    throw new LitmusError(
      "this is a C litmus test (the Linux-kernel memory model's dialect): run it with execmem-lab explore",
      file,
      line,
      column,
    );
  }
  const text = stripComments(source.replace(/\r\n?/g, "\n"), file);
  const lines = text.split("\n");
  const fail = (msg: string, line: number, column = 1, instruction?: string): never => {
    throw new LitmusError(msg, file, line, column, instruction);
  };

  // Header: "AArch64 NAME".
  let li = 0;
  while (li < lines.length && lines[li].trim() === "") li++;
  if (li >= lines.length) fail('empty file: expected a header line such as "AArch64 NAME"', 1);
  const head = /^\s*(\S+)\s+(\S.*?)\s*$/.exec(lines[li]);
  if (!head) fail('expected a header line "AArch64 NAME"', li + 1);
  const arch = head![1];
  if (arch !== "AArch64") {
    fail(
      `architecture "${arch}" is not supported: this reader takes AArch64 litmus tests`,
      li + 1,
      lines[li].indexOf(arch) + 1,
      arch,
    );
  }
  const name = head![2];
  li++;

  // Header lines up to "{".
  const header: Record<string, string> = {};
  const doc: string[] = [];
  let cacheType = { idc: false, dic: false };
  for (; li < lines.length; li++) {
    const raw = lines[li];
    const t = raw.trim();
    if (t === "") continue;
    if (t.startsWith("{")) break;
    const col = raw.indexOf(t) + 1;
    if (t.startsWith('"')) {
      const m = /^"([^"]*)"\s*$/.exec(t);
      if (!m) fail("unterminated documentation string", li + 1, col);
      doc.push(m![1]);
      continue;
    }
    const kv = /^([A-Za-z][\w-]*)\s*=\s*(.*)$/.exec(t);
    if (!kv) fail(`expected "Key=Value", a "documentation string" or "{", got "${t}"`, li + 1, col);
    header[kv![1]] = kv![2].trim();
    if (kv![1] === "CacheType") cacheType = parseCacheType(kv![2], file, li + 1, col);
  }
  if (li >= lines.length) fail('expected the initial state "{ ... }"', lines.length);

  // Initial state: from "{" to the matching "}".
  const initStart = { line: li, col: lines[li].indexOf("{") };
  let body = "";
  const bodyPos: { line: number; col: number }[] = [];
  let closed = false;
  let l = initStart.line;
  let c = initStart.col + 1;
  for (; l < lines.length; l++, c = 0) {
    const s = lines[l];
    for (; c < s.length; c++) {
      if (s[c] === "}") {
        closed = true;
        break;
      }
      body += s[c];
      bodyPos.push({ line: l + 1, col: c + 1 });
    }
    if (closed) break;
    body += "\n";
    bodyPos.push({ line: l + 1, col: s.length + 1 });
  }
  if (!closed)
    fail('the initial state "{" is not closed by "}"', initStart.line + 1, initStart.col + 1);
  const init = parseInit(body, bodyPos, file);
  const rest = lines[l].slice(c + 1);
  if (rest.trim() !== "")
    fail(`unexpected text after "}": "${rest.trim()}"`, l + 1, c + 2 + rest.search(/\S/));
  li = l + 1;

  // Program: a header row "P0 | P1 ;" then rows of cells, up to the condition.
  while (li < lines.length && lines[li].trim() === "") li++;
  if (li >= lines.length) fail('expected the thread header row, such as "P0 | P1 ;"', li);
  const rows: { cells: { text: string; col: number; line: number }[]; line: number }[] = [];
  let condLine = -1;
  let pending = "";
  let pendingStart = -1;
  const pendingCols: { line: number; col: number }[] = [];
  for (; li < lines.length; li++) {
    const s = lines[li];
    if (pending === "" && CONDITION_START.test(s)) {
      condLine = li;
      break;
    }
    if (s.trim() === "" && pending === "") continue;
    // A row ends with ";" (outside quotes); it may span lines.
    if (pendingStart < 0) pendingStart = li;
    for (let k = 0; k < s.length; k++) {
      if (s[k] === ";") {
        rows.push(splitRow(pending, pendingCols, pendingStart + 1));
        pending = "";
        pendingCols.length = 0;
        pendingStart = li;
        continue;
      }
      pending += s[k];
      pendingCols.push({ line: li + 1, col: k + 1 });
    }
    if (pending.trim() === "") {
      pending = "";
      pendingCols.length = 0;
      pendingStart = -1;
    } else {
      pending += " ";
      pendingCols.push({ line: li + 1, col: s.length + 1 });
    }
  }
  if (pending.trim() !== "") {
    const at = pendingCols[pending.search(/\S/)];
    fail(`a program row must end with ";": "${pending.trim()}"`, at.line, at.col);
  }
  if (rows.length === 0) fail('expected the thread header row, such as "P0 | P1 ;"', li + 1);
  const hdr = rows[0];
  // Columns: threads P0, P1, ... in order, and fault handlers Pn.F (herd7: "P0 | P0.F | P1").
  const threads: LitmusThread[] = [];
  const columns: { thread: number; handler: boolean }[] = [];
  hdr.cells.forEach((cell) => {
    const t = cell.text.trim();
    const hm = /^P(\d+)\.F$/.exec(t);
    if (hm) {
      const n = Number(hm[1]);
      if (columns.some((c) => c.thread === n && c.handler))
        fail(`fault handler "${t}" appears twice in the header row`, hdr.line, cell.col);
      columns.push({ thread: n, handler: true });
      return;
    }
    if (t !== `P${threads.length}`)
      fail(
        `expected thread name "P${threads.length}" (or a fault handler "Pn.F") in the header row, got "${t}"`,
        hdr.line,
        cell.col,
      );
    columns.push({ thread: threads.length, handler: false });
    threads.push({ name: t, code: [] });
  });
  for (const c of columns)
    if (c.handler && c.thread >= threads.length)
      fail(`fault handler "P${c.thread}.F" has no thread P${c.thread}`, hdr.line, 1);
  const handlerCode: CodePos[][] = threads.map(() => []);
  const handlerLabels: string[][] = threads.map(() => []);
  const pendingLabels: string[][] = threads.map(() => []);
  for (const row of rows.slice(1)) {
    // herd7: "mismatch in instruction lines" — never a silent shift to another thread.
    if (row.cells.length !== columns.length)
      fail(
        `mismatch in instruction lines: this row has ${row.cells.length} column${row.cells.length === 1 ? "" : "s"}, the header row has ${columns.length}`,
        row.line,
        (row.cells[Math.min(row.cells.length, columns.length) - 1] ?? { col: 1 }).col,
      );
    row.cells.forEach((cell, ci) => {
      const { thread: ti, handler } = columns[ci];
      const codeOf = handler ? handlerCode[ti] : threads[ti].code;
      const labelsOf = handler ? handlerLabels : pendingLabels;
      let t = cell.text;
      let col = cell.col;
      // Labels: "L1:" (possibly several, possibly followed by an instruction).
      for (;;) {
        const m = /^(\s*)([A-Za-z_][\w.]*)\s*:/.exec(t);
        if (!m) break;
        labelsOf[ti].push(m[2]);
        col += m[0].length;
        t = t.slice(m[0].length);
      }
      const body = t.trim();
      if (body === "") return;
      const at = { line: cell.line, column: col + (t.length - t.trimStart().length) };
      const insn = decodeInsn(body, (msg, instruction) =>
        fail(msg, at.line, at.column, instruction),
      );
      codeOf.push({
        labels: labelsOf[ti],
        insn: { insn, text: body, line: at.line, column: at.column },
      });
      labelsOf[ti] = [];
    });
  }
  threads.forEach((th, ti) => {
    th.code.push({ labels: pendingLabels[ti], insn: null });
    if (columns.some((c) => c.thread === ti && c.handler)) {
      th.handlerStart = th.code.length;
      th.code.push(...handlerCode[ti], { labels: handlerLabels[ti], insn: null });
    }
  });
  // Labels are unique within a thread.
  for (const th of threads) {
    const seen = new Set<string>();
    for (const p of th.code)
      for (const lab of p.labels) {
        if (seen.has(lab)) {
          const at = p.insn ?? { line: hdr.line, column: 1 };
          fail(`label "${lab}" is defined twice in ${th.name}`, at.line, at.column);
        }
        seen.add(lab);
      }
  }

  // Final condition (and an optional locations clause before it).
  if (condLine < 0) fail("expected a final condition (exists, ~exists or forall)", lines.length);
  let condText = lines.slice(condLine).join("\n");
  let condStart = condLine;
  const locations: string[] = [];
  const locm = /^\s*locations\s*\[([^\]]*)\]\s*/.exec(condText);
  if (locm) {
    for (const n of locm[1]
      .split(";")
      .map((x) => x.trim())
      .filter(Boolean))
      locations.push(n);
    const consumed = condText.slice(0, locm[0].length);
    condStart += consumed.split("\n").length - 1;
    condText = condText.slice(locm[0].length);
  }
  if (/^\s*filter\b/.test(condText)) {
    const [fl, fc] = lineCol(condText, condText.search(/\S/));
    fail('"filter" clauses are not supported', condStart + fl, fc, "filter");
  }
  const lead = condText.length - condText.trimStart().length;
  const [cl, cc] = lineCol(condText, lead);
  const condition = {
    text: condText.trim(),
    line: condStart + cl,
    column: condText.trimStart() === "" ? 1 : cc,
  };
  if (!/^(~\s*exists|exists|forall)\b/.test(condition.text))
    fail(
      "expected a final condition (exists, ~exists or forall)",
      condition.line,
      condition.column,
    );

  return { file, arch, name, header, doc, cacheType, init, threads, condition, locations };
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

function splitRow(
  text: string,
  cols: { line: number; col: number }[],
  line: number,
): { cells: { text: string; col: number; line: number }[]; line: number } {
  const cells: { text: string; col: number; line: number }[] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text[i] === "|") {
      const p = cols[start] ?? cols[cols.length - 1] ?? { line, col: 1 };
      cells.push({ text: text.slice(start, i), col: p.col, line: p.line });
      start = i + 1;
    }
  }
  return { cells, line: cols[0]?.line ?? line };
}

/** Parses the body of "{ ... }": entries separated by ";". */
function parseInit(body: string, pos: { line: number; col: number }[], file: string): InitEntry[] {
  const out: InitEntry[] = [];
  let start = 0;
  let inStr = false;
  const entries: { text: string; at: number }[] = [];
  for (let i = 0; i <= body.length; i++) {
    if (i < body.length && body[i] === '"') inStr = !inStr;
    if (i === body.length || (!inStr && body[i] === ";")) {
      entries.push({ text: body.slice(start, i), at: start });
      start = i + 1;
    }
  }
  for (const e of entries) {
    const t = e.text.trim();
    if (t === "") continue;
    const off = e.at + (e.text.length - e.text.trimStart().length);
    const p = pos[off] ?? pos[pos.length - 1] ?? { line: 1, col: 1 };
    const fail = (msg: string, instruction?: string): never => {
      throw new LitmusError(msg, file, p.line, p.col, instruction);
    };
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
      fail(`page-table state is not supported ("${t}"): the front-end has no page tables`, t);
    const eq = rest.indexOf("=");
    const lhs = (eq < 0 ? rest : rest.slice(0, eq)).trim();
    const rhs = eq < 0 ? null : rest.slice(eq + 1).trim();
    let thread: number | null = null;
    let name: string;
    const rm = /^(\d+)\s*:\s*(\w+)$/.exec(lhs);
    if (rm) {
      thread = Number(rm[1]);
      const r = regName(rm[2]);
      if (!r || r === "XZR" || r === "SP")
        fail(`"${rm[2]}" is not a general-purpose register (X0..X30, W0..W30)`);
      name = r!;
    } else {
      const lm = /^\[?\s*([A-Za-z_]\w*)\s*\]?$/.exec(lhs);
      if (!lm) fail(`expected "T:Xn=value", "location=value" or a declaration, got "${t}"`);
      name = lm![1];
    }
    if (rhs === null) {
      if (!type) fail(`expected "=" in "${t}"`);
      out.push({ thread, name, value: null, type, line: p.line, column: p.col });
      continue;
    }
    out.push({ thread, name, value: parseInitValue(rhs, fail), type, line: p.line, column: p.col });
  }
  return out;
}

/** Page-table initial state (herd7 -variant vmsa): PTE(x), PA(x), (oa:PA(x)), phy_x, TTD... */
const PAGE_TABLE =
  /\b(PTE|PA|TTD|AF|DB|valid)\s*\(|\(\s*oa\s*:|\bphy_\w|\bpte_\w|\bdb\s*:|\bdbm\s*:|\bvalid\s*:/;

function parseInitValue(v: string, fail: (msg: string, instruction?: string) => never): InitValue {
  const im = /^instr\s*:\s*"([^"]*)"$/.exec(v);
  if (im) {
    const insn = decodeInsn(im[1].trim(), (msg, instruction) => fail(msg, instruction));
    return { k: "instr", text: im[1].trim(), insn };
  }
  const num = /^-?(0x[0-9a-fA-F]+|\d+)$/.exec(v);
  if (num) return { k: "int", value: BigInt(v), text: v };
  const lab = /^P(\d+)\s*:\s*([A-Za-z_][\w.]*)$/.exec(v);
  if (lab) return { k: "label", thread: Number(lab[1]), label: lab[2] };
  // A bare instruction (herd7: "0:X0=NOP;", "0:X0=B l0;"): an upper-case mnemonic.
  if (/^[A-Z][A-Z0-9]*(\.[A-Z]{2})?(\s|$)/.test(v)) {
    const insn = decodeInsn(v, (msg, instruction) => fail(msg, instruction));
    return { k: "instr", text: v, insn };
  }
  const loc = /^&?\s*([A-Za-z_]\w*)$/.exec(v);
  if (loc) return { k: "loc", name: loc[1] };
  return fail(`cannot read the initial value "${v}"`, v);
}
