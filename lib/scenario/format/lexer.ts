/**
 * The lexical level of the scenario format: positions (line and column of an offset), comments
 * (blanked so positions stay), and the scanning primitives the grammar is written with.
 */
import type { SourcePos } from "../../model";
import type { Name } from "./ast";

/** Converts character offsets into 1-based line and column. */
export class LineMap {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.starts.push(i + 1);
  }
  pos(offset: number): SourcePos {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

export interface Comment {
  text: string;
  offset: number;
}

/**
 * Replaces comments by spaces (newlines kept, so positions stay). `(* ... *)` is a comment only
 * outside braces and parentheses (inside a process `(*x` is a dereference); `//` and `/* *\/`
 * are comments anywhere. Returns the `(* *)` comments, where `Result:` lines live.
 */
export function blankComments(src: string): { text: string; comments: Comment[] } {
  const out: string[] = [];
  const comments: Comment[] = [];
  let depth = 0;
  let copied = 0;
  const blank = (from: number, to: number) => {
    out.push(src.slice(copied, from), src.slice(from, to).replace(/[^\n]/g, " "));
    copied = to;
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    const next = src[i + 1];
    if (ch === "(" && next === "*" && depth === 0) {
      const end = src.indexOf("*)", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      comments.push({ text: src.slice(i + 2, end < 0 ? src.length : end), offset: i + 2 });
      blank(i, stop);
      i = stop;
    } else if (ch === "/" && next === "/") {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? src.length : end;
      blank(i, stop);
      i = stop;
    } else if (ch === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      blank(i, stop);
      i = stop;
    } else {
      if (ch === "{" || ch === "(") depth++;
      else if ((ch === "}" || ch === ")") && depth > 0) depth--;
      i++;
    }
  }
  out.push(src.slice(copied));
  return { text: out.join(""), comments };
}

/** A syntax error: where, what was expected there, or a complete reason. */
export class Fail {
  constructor(
    readonly offset: number,
    readonly expected: string[],
    readonly message?: string,
  ) {}
}

function isIdChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 ||
    (c > 127 && /[\p{L}\p{N}]/u.test(String.fromCharCode(c)))
  );
}
export const isDigit = (c: number) => c >= 48 && c <= 57;

/** Or-list as a reader says it: `"a", "b", or "c"`. */
export function orList(xs: string[]): string {
  if (xs.length <= 1) return xs[0] ?? "something else";
  if (xs.length === 2) return `${xs[0]} or ${xs[1]}`;
  return `${xs.slice(0, -1).join(", ")}, or ${xs[xs.length - 1]}`;
}

/**
 * A scanner over the text. Like a PEG parser it remembers the rightmost position where
 * something was expected and what, which is what a syntax error reports.
 */
export class Scanner {
  protected i = 0;
  protected far = -1;
  protected wanted: string[] = [];
  protected readonly n: number;

  constructor(
    protected readonly s: string,
    protected readonly lines: LineMap,
  ) {
    this.n = s.length;
  }

  // -- scanning primitives ---------------------------------------------------------------------

  protected at(offset: number): SourcePos {
    return this.lines.pos(offset);
  }
  protected ws(): void {
    const s = this.s;
    while (this.i < this.n && s.charCodeAt(this.i) <= 32) this.i++;
  }
  protected want(what: string, at = this.i): void {
    if (at < this.far) return;
    if (at > this.far) {
      this.far = at;
      this.wanted = [what];
    } else if (at === this.far && !this.wanted.includes(what)) this.wanted.push(what);
  }
  protected die(): never {
    throw new Fail(this.far, this.wanted);
  }
  /** Is the literal next (after spaces)? Records it as expected when not. */
  protected peek(t: string): boolean {
    this.ws();
    if (this.s.startsWith(t, this.i)) return true;
    if (this.i >= this.far) this.want(JSON.stringify(t));
    return false;
  }
  protected lit(t: string): boolean {
    if (!this.peek(t)) return false;
    this.i += t.length;
    return true;
  }
  protected need(t: string): number {
    this.ws();
    const at = this.i;
    if (!this.lit(t)) this.die();
    return at;
  }
  /** The identifier-like word starting here (after spaces), without consuming it. */
  protected word(): string {
    this.ws();
    let j = this.i;
    if (j < this.n && isDigit(this.s.charCodeAt(j))) return "";
    while (j < this.n && isIdChar(this.s.charCodeAt(j))) j++;
    return this.s.slice(this.i, j);
  }
  protected isKw(w: string): boolean {
    return this.word() === w;
  }
  protected kw(w: string): boolean {
    if (this.word() === w) {
      this.i += w.length;
      return true;
    }
    if (this.i >= this.far) this.want(JSON.stringify(w));
    return false;
  }
  protected ident(): Name {
    const w = this.word();
    if (!w) {
      this.want("an identifier");
      this.die();
    }
    const pos = this.at(this.i);
    this.i += w.length;
    return { text: w, pos };
  }
  protected number(): { value: number; pos: SourcePos } {
    this.ws();
    let j = this.i;
    while (j < this.n && isDigit(this.s.charCodeAt(j))) j++;
    if (j === this.i) {
      this.want("a number");
      this.die();
    }
    const r = { value: Number(this.s.slice(this.i, j)), pos: this.at(this.i) };
    this.i = j;
    return r;
  }
  protected procName(): Name {
    this.ws();
    const m = /^P[0-9]+/.exec(this.s.slice(this.i, this.i + 24));
    if (!m) {
      this.want("a process name like P0");
      this.die();
    }
    const pos = this.at(this.i);
    this.i += m[0].length;
    return { text: m[0], pos };
  }
  protected isProcName(): boolean {
    this.ws();
    return this.s[this.i] === "P" && isDigit(this.s.charCodeAt(this.i + 1));
  }
  /** Skips to (not past) the first of `stops`; returns how many characters were skipped. */
  protected skipUntil(stops: string): number {
    const from = this.i;
    while (this.i < this.n && !stops.includes(this.s[this.i])) this.i++;
    return this.i - from;
  }
}
