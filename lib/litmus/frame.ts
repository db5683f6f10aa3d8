/**
 * The layout every herd7 litmus file shares, whatever its architecture: a header line
 * "ARCH NAME", `Key=Value` and "doc" lines, the initial state `{ ... }`, a row of thread names
 * "P0 | P1 ;", rows of cells up to the final condition. readFrame() cuts a file into these
 * pieces with the line and column of each; an architecture's reader decodes the cells.
 */
import { readFileSync } from "fs";

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

/** A position in a litmus file. */
export interface At {
  line: number;
  column: number;
}

/** Throws the LitmusError of `file` at `at`. */
export type Fail = (msg: string, at: At, instruction?: string) => never;

/** The LitmusError thrower of a file. */
export function failIn(file: string): Fail {
  return (msg, at, instruction) => {
    throw new LitmusError(msg, file, at.line, at.column, instruction);
  };
}

/** The text of a litmus file; a LitmusError naming the path when it cannot be read. */
export function readLitmusFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new LitmusError(`cannot read: ${(e as Error).message}`, path, 1, 1);
  }
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

export interface Located {
  text: string;
  line: number;
  column: number;
}

export interface LitmusFrame {
  file: string;
  arch: string;
  name: string;
  /** The header's `Key=Value` lines: each value where it stands, for errors that name it. */
  header: Record<string, Located>;
  doc: string[];
  /** Entries of the initial state, split at top-level ";". */
  init: Located[];
  /** Thread names of the header row (P0, P1, ...), in order. */
  threads: Located[];
  /** Columns of the header row: a thread, or a thread's fault handler (herd7's `P0.F`). */
  columns: (Located & { thread: number; handler: boolean })[];
  /** Cells of each later row, one per column. */
  rows: { line: number; cells: Located[] }[];
  condition: Located;
  locations: string[];
}

const CONDITION_START = /^\s*(~\s*exists|exists|forall|locations|filter)\b/;

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

/** The first word of a litmus file (its architecture), comments skipped; null when empty. */
export function litmusArch(source: string): string | null {
  let text: string;
  try {
    text = stripComments(source.replace(/\r\n?/g, "\n"));
  } catch {
    return null;
  }
  const m = /^\s*(\S+)/.exec(text);
  return m ? m[1] : null;
}

/** Cuts a litmus file into its parts; `arch` is the architecture word this reader expects. */
export function readFrame(source: string, file: string, arch: string): LitmusFrame {
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
  let li = 0;
  while (li < lines.length && lines[li].trim() === "") li++;
  if (li >= lines.length) fail(`empty file: expected a header line such as "${arch} NAME"`, 1);
  const head = /^\s*(\S+)\s+(\S.*?)\s*$/.exec(lines[li]);
  if (!head) fail(`expected a header line "${arch} NAME"`, li + 1);
  if (head![1] !== arch)
    fail(
      `architecture "${head![1]}" is not supported: this reader takes ${arch} litmus tests`,
      li + 1,
      lines[li].indexOf(head![1]) + 1,
      head![1],
    );
  const name = head![2];
  li++;

  const header: Record<string, Located> = {};
  const doc: string[] = [];
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
    header[kv![1]] = { text: kv![2].trim(), line: li + 1, column: 1 };
  }
  if (li >= lines.length) fail('expected the initial state "{ ... }"', lines.length);

  // Initial state: entries separated by ";" outside quotes, up to the closing "}".
  const init: Located[] = [];
  let cur = "";
  let curAt: { line: number; column: number } | null = null;
  let inStr = false;
  let closed = false;
  const open = { line: li + 1, column: lines[li].indexOf("{") + 1 };
  let l = li;
  let c = lines[li].indexOf("{") + 1;
  const push = () => {
    if (cur.trim() !== "" && curAt) init.push({ text: cur.trim(), ...curAt });
    cur = "";
    curAt = null;
  };
  for (; l < lines.length && !closed; l++, c = 0) {
    const s = lines[l];
    for (; c < s.length; c++) {
      const ch = s[c];
      if (ch === '"') inStr = !inStr;
      if (!inStr && ch === "}") {
        closed = true;
        break;
      }
      if (!inStr && ch === ";") {
        push();
        continue;
      }
      if (curAt === null && ch.trim() !== "") curAt = { line: l + 1, column: c + 1 };
      cur += ch;
    }
    if (closed) break;
    cur += " ";
  }
  if (!closed) fail('the initial state "{" is not closed by "}"', open.line, open.column);
  push();
  const rest = lines[l].slice(c + 1);
  if (rest.trim() !== "")
    fail(`unexpected text after "}": "${rest.trim()}"`, l + 1, c + 2 + rest.search(/\S/));
  li = l + 1;

  // Program rows, each ending with ";" (possibly over several lines), up to the condition.
  const rows: { line: number; cells: Located[] }[] = [];
  let condLine = -1;
  let pending: { ch: string; line: number; column: number }[] = [];
  for (; li < lines.length; li++) {
    const s = lines[li];
    if (pending.length === 0 && CONDITION_START.test(s)) {
      condLine = li;
      break;
    }
    for (let k = 0; k < s.length; k++) {
      if (s[k] === ";") {
        rows.push(splitRow(pending, li + 1));
        pending = [];
        continue;
      }
      pending.push({ ch: s[k], line: li + 1, column: k + 1 });
    }
    if (pending.every((p) => p.ch.trim() === "")) pending = [];
    else pending.push({ ch: " ", line: li + 1, column: s.length + 1 });
  }
  if (pending.length > 0) {
    const at = pending.find((p) => p.ch.trim() !== "")!;
    const t = pending
      .map((p) => p.ch)
      .join("")
      .trim();
    fail(`a program row must end with ";": "${t}"`, at.line, at.column);
  }
  if (rows.length === 0) fail('expected the thread header row, such as "P0 | P1 ;"', li + 1);
  // Columns: threads P0, P1, ... in order, and fault handlers Pn.F (herd7: "P0 | P0.F | P1").
  const hdr = rows[0];
  const threads: Located[] = [];
  const columns: LitmusFrame["columns"] = [];
  for (const cell of hdr.cells) {
    const t = cell.text.trim();
    const hm = /^P(\d+)\.F$/.exec(t);
    if (hm) {
      const n = Number(hm[1]);
      if (columns.some((c) => c.thread === n && c.handler))
        fail(`fault handler "${t}" appears twice in the header row`, hdr.line, cell.column);
      columns.push({ ...cell, text: t, thread: n, handler: true });
      continue;
    }
    if (t !== `P${threads.length}`)
      fail(
        `expected thread name "P${threads.length}" (or a fault handler "Pn.F") in the header row, got "${t}"`,
        hdr.line,
        cell.column,
      );
    columns.push({ ...cell, text: t, thread: threads.length, handler: false });
    threads.push({ ...cell, text: t });
  }
  for (const c of columns)
    if (c.handler && c.thread >= threads.length)
      fail(`fault handler "P${c.thread}.F" has no thread P${c.thread}`, hdr.line, 1);
  // herd7: "mismatch in instruction lines" — never a silent shift to another thread.
  for (const row of rows.slice(1)) {
    const n = row.cells.length;
    if (n !== columns.length)
      fail(
        `mismatch in instruction lines: this row has ${n} column${n === 1 ? "" : "s"}, the header row has ${columns.length}`,
        row.line,
        row.cells[Math.min(n, columns.length) - 1]?.column ?? 1,
      );
  }

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
    condStart += condText.slice(0, locm[0].length).split("\n").length - 1;
    condText = condText.slice(locm[0].length);
  }
  if (/^\s*filter\b/.test(condText)) {
    const [fl, fc] = lineCol(condText, condText.search(/\S/));
    fail('"filter" clauses are not supported', condStart + fl, fc, "filter");
  }
  const lead = condText.length - condText.trimStart().length;
  const [cl, cc] = lineCol(condText, lead);
  const condition = {
    text: condText.trim().replace(/\s+/g, " "),
    line: condStart + cl,
    column: condText.trimStart() === "" ? 1 : cc,
  };
  if (!/^(~\s*exists|exists|forall)\b/.test(condition.text))
    fail(
      "expected a final condition (exists, ~exists or forall)",
      condition.line,
      condition.column,
    );
  return {
    file,
    arch,
    name,
    header,
    doc,
    init,
    threads,
    columns,
    rows: rows.slice(1),
    condition,
    locations,
  };
}

function splitRow(
  chars: { ch: string; line: number; column: number }[],
  line: number,
): { line: number; cells: Located[] } {
  const cells: Located[] = [];
  let start = 0;
  for (let i = 0; i <= chars.length; i++) {
    if (i === chars.length || chars[i].ch === "|") {
      const part = chars.slice(start, i);
      const first = part.find((p) => p.ch.trim() !== "") ?? part[0] ?? chars[start - 1];
      cells.push({
        text: part
          .map((p) => p.ch)
          .join("")
          .trimStart(),
        line: first?.line ?? line,
        column: first?.column ?? 1,
      });
      start = i + 1;
    }
  }
  return { line: chars.find((p) => p.ch.trim() !== "")?.line ?? line, cells };
}

/**
 * What the left side of an initial-state entry names: `T:reg` (thread T's register, as `reg`
 * checks and spells it) or a location, the first group of `loc`; `bad` when it is neither.
 */
export function readInitTarget(
  lhs: string,
  reg: (name: string) => string,
  loc: RegExp,
  bad: () => never,
): { thread: number | null; name: string } {
  const rm = /^(\d+)\s*:\s*(\w+)$/.exec(lhs);
  if (rm) return { thread: Number(rm[1]), name: reg(rm[2]) };
  const lm = loc.exec(lhs);
  return lm ? { thread: null, name: lm[1] } : bad();
}

/** The header's values by key (`CacheType`, `Variant`, ...). */
export function headerValues(f: LitmusFrame): Record<string, string> {
  return Object.fromEntries(Object.entries(f.header).map(([k, v]) => [k, v.text]));
}

/** A value of the initial state, with instructions of type I. */
export type InitValueOf<I> =
  | { k: "int"; value: bigint; text: string }
  /** Address of a data location. */
  | { k: "loc"; name: string }
  /** Address of a code label of thread `thread`. */
  | { k: "label"; thread: number; label: string }
  /** An instruction value, `instr:"B .+4"` (or written bare where `bare` allows: `NOP`). */
  | { k: "instr"; text: string; insn: I };

/**
 * Reads a value of the initial state: `instr:"..."`, an integer, `P1:l` (a code label's
 * address), a bare instruction where `bare` matches, or `x`/`&x` (a location's address).
 */
export function readValue<I>(
  v: string,
  at: At,
  fail: Fail,
  decode: (text: string, at: At) => I,
  bare?: RegExp,
): InitValueOf<I> {
  const im = /^instr\s*:\s*"([^"]*)"$/.exec(v);
  if (im) return { k: "instr", text: im[1].trim(), insn: decode(im[1].trim(), at) };
  if (/^-?(0x[0-9a-fA-F]+|\d+)$/.test(v))
    return { k: "int", value: v.startsWith("-") ? -BigInt(v.slice(1)) : BigInt(v), text: v };
  const lab = /^P(\d+)\s*:\s*([A-Za-z_][\w.]*)$/.exec(v);
  if (lab) return { k: "label", thread: Number(lab[1]), label: lab[2] };
  if (bare?.test(v)) return { k: "instr", text: v, insn: decode(v, at) };
  const loc = /^&?\s*([A-Za-z_]\w*)$/.exec(v);
  if (loc) return { k: "loc", name: loc[1] };
  return fail(`cannot read the initial value "${v}"`, at, v);
}

/** One position of a thread's code: the labels before it and its instruction (none at the end). */
export interface CodeAt<I> {
  labels: string[];
  insn: { insn: I; text: string; line: number; column: number } | null;
}

/**
 * The code of each column of a frame: per column its instructions in order (decoded by
 * `decode`) with the labels before each (`L:`, several, alone or before an instruction), and
 * the labels after the last. `isLabel` rejects names that are not labels (a register).
 */
export function readCode<I>(
  f: LitmusFrame,
  decode: (text: string, at: At) => I,
  isLabel: (name: string) => boolean = () => true,
): { code: CodeAt<I>[]; after: string[] }[] {
  const out = f.columns.map(() => ({ code: [] as CodeAt<I>[], after: [] as string[] }));
  for (const row of f.rows)
    row.cells.forEach((cell, ci) => {
      const col = out[ci];
      let t = cell.text;
      let column = cell.column;
      for (;;) {
        const m = /^(\s*)([A-Za-z_][\w.]*)\s*:/.exec(t);
        if (!m || !isLabel(m[2])) break;
        col.after.push(m[2]);
        column += m[0].length - m[1].length;
        t = t.slice(m[0].length);
      }
      const body = t.trim();
      if (body === "") return;
      const at = { line: cell.line, column: column + (t.length - t.trimStart().length) };
      col.code.push({ labels: col.after, insn: { insn: decode(body, at), text: body, ...at } });
      col.after = [];
    });
  return out;
}

/** Fails when a label is defined twice in one thread's code. */
export function checkLabels<I>(
  threads: { name: string; code: CodeAt<I>[] }[],
  fail: Fail,
  at: At,
): void {
  for (const th of threads) {
    const seen = new Set<string>();
    for (const p of th.code)
      for (const lab of p.labels) {
        if (seen.has(lab)) fail(`label "${lab}" is defined twice in ${th.name}`, p.insn ?? at);
        seen.add(lab);
      }
  }
}
