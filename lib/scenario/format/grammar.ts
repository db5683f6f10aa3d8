/**
 * Syntax of the litmus-style scenario format (docs/scenario-format.md): a recursive-descent
 * parser producing a small plain AST with source positions. Meaning (which statement does what,
 * which names exist) is given by declarations.ts, processes.ts and statements.ts.
 *
 * The grammar, in PEG notation (spaces may separate the tokens of capitalised rules):
 *
 *   File      = Header Directive* Init Proc* Locations? Final? end
 *   Header    = "C" testName                      testName = (~space any)+
 *   Directive = "arch" archName ";"? | "speculate" procName ident ("," ident)* ";"?
 *             | "interrupts" procName number ";"? | "handled" ident ("," ident)* ";"?
 *   Init      = "{" (CodeDecl | PageDecl | FrameDecl | DataDecl)* "}"
 *   CodeDecl  = "code" ident ("[" number "]")? "=" ("{" ident ("," ident)* "}" | ident) Attr* ";"
 *   PageDecl  = "page" ident "=" ident Attr* ";"   FrameDecl = "frame" ident "=" ident Attr* ";"
 *   Attr      = ident "(" ((ident "=")? ident) list ")"
 *   DataDecl  = ctype* ident ("=" number)? ";"
 *   Proc      = procName "(" (ident ("*"* ident)*) list ")" Block
 *   Block     = "{" Stmt* "}"
 *   Stmt      = While | Unsupported | Decl | Assign | CallStmt | Block | ";" | OtherAssign
 *   While     = "while" "(" ("!" Call | Call "!=" number | Call "==" number | Call) ")"
 *               (";" | "{" Stmt* "}" | Call ";")
 *   Unsupported = ("if" | "else" | "for" | "do" | "switch" | "goto" | "return")
 *               (~";" ~"{" ~"}" any)* (Block | ";")
 *   Decl      = ctype+ ("*"* ident) list ";"       Assign = ident "=" Call ";"
 *   CallStmt  = Call ";"                          OtherAssign = ident "=" (~";" ~"}" any)+ ";"
 *   Call      = ~reserved ident "(" (string | number | ("*" | "&")? ident ("+" number)?) list ")"
 *   Locations = "locations" "[" (~"]" any)* "]"   Final = ("~exists" | "exists" | "forall") any*
 *
 * It runs in time and memory linear in the text; blocks nest at most MAX_NESTING deep (the
 * error names the position), so no input can exhaust the stack.
 */
import type { SourcePos } from "../../model";
import type {
  ArgNode,
  AttrNode,
  CallNode,
  DirectiveNode,
  FileNode,
  InitNode,
  Name,
  ProcNode,
  StmtNode,
  SyntaxResult,
} from "./ast";
import { Fail, isDigit, orList, Scanner, type LineMap } from "./lexer";

/** How deep blocks may nest in a process. */
export const MAX_NESTING = 100;

const CTYPES = new Set(["int", "unsigned", "long", "atomic_t", "u8", "u32", "u64"]);
const UNSUPPORTED = new Set(["if", "else", "for", "do", "switch", "goto", "return"]);

/** A predictive parser of the grammar above, on the scanner's primitives. */
class SyntaxParser extends Scanner {
  private depth = 0;

  // -- the file --------------------------------------------------------------------------------

  file(): FileNode {
    this.ws();
    const headerPos = this.at(this.i);
    this.need("C");
    this.ws();
    const nameStart = this.i;
    while (this.i < this.n && this.s.charCodeAt(this.i) > 32) this.i++;
    if (this.i === nameStart) {
      this.want("a test name");
      this.die();
    }
    const name: Name = { text: this.s.slice(nameStart, this.i), pos: this.at(nameStart) };
    const directives: DirectiveNode[] = [];
    for (;;) {
      const d = this.directive();
      if (!d) break;
      directives.push(d);
    }
    this.ws();
    const initPos = this.at(this.i);
    this.need("{");
    const init: InitNode[] = [];
    while (!this.lit("}")) {
      if (this.i >= this.n) {
        this.want("an identifier");
        this.die();
      }
      init.push(this.initItem());
    }
    const procs: ProcNode[] = [];
    while (this.isProcName()) procs.push(this.proc());
    this.want("a process name like P0");
    if (this.kw("locations")) {
      this.need("[");
      this.skipUntil("]");
      this.need("]");
    }
    this.ws();
    let final: FileNode["final"];
    const rest = this.s.slice(this.i, this.i + 7);
    if (/^(~exists|exists|forall)/.test(rest)) {
      final = { text: this.s.slice(this.i), pos: this.at(this.i) };
      this.i = this.n;
    } else for (const w of ['"~exists"', '"exists"', '"forall"']) this.want(w);
    this.ws();
    if (this.i < this.n) {
      this.want("end of input");
      this.die();
    }
    return { name, headerPos, directives, init, initPos, procs, final };
  }

  private directive(): DirectiveNode | undefined {
    this.ws();
    const pos = this.at(this.i);
    if (this.kw("arch")) {
      this.ws();
      const from = this.i;
      while (this.i < this.n && /[\p{L}\p{N}+\-_.]/u.test(this.s[this.i])) this.i++;
      if (this.i === from) {
        this.want("an architecture name");
        this.die();
      }
      const value: Name = { text: this.s.slice(from, this.i), pos: this.at(from) };
      this.lit(";");
      return { k: "arch", value, pos };
    }
    if (this.kw("speculate")) {
      const proc = this.procName();
      const regions = [this.ident()];
      while (this.lit(",")) regions.push(this.ident());
      this.lit(";");
      return { k: "speculate", proc, regions, pos };
    }
    if (this.kw("interrupts")) {
      const proc = this.procName();
      const count = this.number();
      this.lit(";");
      return { k: "interrupts", proc, count, pos };
    }
    if (this.kw("handled")) {
      const classes = [this.ident()];
      while (this.lit(",")) classes.push(this.ident());
      this.lit(";");
      return { k: "handled", classes, pos };
    }
    return undefined;
  }

  private attrs(): AttrNode[] {
    const out: AttrNode[] = [];
    while (this.word() && !this.peek(";")) {
      const name = this.ident();
      this.need("(");
      const args: AttrNode["args"] = [];
      if (!this.lit(")")) {
        do {
          const a = this.ident();
          if (this.lit("=")) args.push({ key: a, value: this.ident() });
          else args.push({ value: a });
        } while (this.lit(","));
        this.need(")");
      }
      out.push({ name, args, pos: name.pos });
    }
    return out;
  }

  private initItem(): InitNode {
    this.ws();
    const pos = this.at(this.i);
    const w = this.word();
    // `code`, `page` and `frame` start a declaration when a name follows; else they are data.
    if (w === "code" || w === "page" || w === "frame") {
      const save = this.i;
      this.i += w.length;
      if (this.word()) {
        const name = this.ident();
        if (w === "code") {
          const lines = this.lit("[") ? this.number() : undefined;
          if (lines) this.need("]");
          this.need("=");
          this.ws();
          const contentPos = this.at(this.i);
          let content: Name | Name[];
          if (this.lit("{")) {
            content = [this.ident()];
            while (this.lit(",")) content.push(this.ident());
            this.need("}");
          } else content = this.ident();
          const attrs = this.attrs();
          this.need(";");
          return { k: "code", name, lines, content, contentPos, attrs, pos };
        }
        this.need("=");
        const value = this.ident();
        const attrs = this.attrs();
        this.need(";");
        return { k: w, name, value, attrs, pos };
      }
      this.i = save;
    }
    while (CTYPES.has(this.word())) this.i += this.word().length;
    const name = this.ident();
    const value = this.lit("=") ? this.number() : undefined;
    this.need(";");
    return { k: "data", name, value, pos: name.pos };
  }

  private proc(): ProcNode {
    const name = this.procName();
    this.need("(");
    const params: Name[] = [];
    if (!this.lit(")")) {
      do {
        let last = this.ident();
        for (;;) {
          while (this.lit("*"));
          if (!this.word()) break;
          last = this.ident();
        }
        if (last.text !== "void") params.push(last);
      } while (this.lit(","));
      this.need(")");
    }
    this.ws();
    const at = this.i;
    if (!this.peek("{")) this.die();
    const body = this.block(at);
    return { name, params, body, pos: name.pos };
  }

  /** `{ Stmt* }` from the `{` at `open`. */
  private block(open: number): StmtNode[] {
    if (++this.depth > MAX_NESTING)
      throw new Fail(open, [], `blocks nested more than ${MAX_NESTING} deep`);
    this.i = open + 1;
    const body: StmtNode[] = [];
    while (!this.lit("}")) {
      if (this.i >= this.n) this.die();
      body.push(this.stmt());
    }
    this.depth--;
    return body;
  }

  private stmt(): StmtNode {
    this.ws();
    const start = this.i;
    const pos = this.at(start);
    const w = this.word();
    if (this.s[start] === "{") return { k: "block", body: this.block(start), pos };
    if (this.s[start] === ";") {
      this.i++;
      return { k: "empty", pos };
    }
    if (w === "while") return this.whileStmt(pos);
    if (UNSUPPORTED.has(w)) {
      this.i += w.length;
      this.skipUntil(";{}");
      this.ws();
      if (this.s[this.i] === "{") this.block(this.i);
      else this.need(";");
      return { k: "unsupported", keyword: w, pos };
    }
    if (CTYPES.has(w)) {
      while (CTYPES.has(this.word())) this.i += this.word().length;
      if (this.word() || this.peek("*")) {
        do {
          while (this.lit("*"));
          this.ident();
        } while (this.lit(","));
      }
      this.need(";");
      return { k: "decl", pos };
    }
    if (!w) {
      for (const x of ['"while"', '"{"', '";"', "an identifier"]) this.want(x);
      this.die();
    }
    const target = this.ident();
    if (this.peek("=")) {
      this.i++;
      // Assign (r0 = f();) when a call follows, else some other assignment (reported later).
      const afterEq = this.i;
      const save = { far: this.far, wanted: this.wanted };
      try {
        const call = this.call();
        this.need(";");
        return { k: "call", call, result: target, pos };
      } catch (e) {
        if (!(e instanceof Fail) || e.message) throw e;
        this.i = afterEq;
        this.ws();
        const from = this.i;
        if (this.skipUntil(";}") === 0 || this.s[this.i] !== ";") throw e;
        this.far = save.far;
        this.wanted = save.wanted;
        const value = this.s.slice(from, this.i).trim();
        this.i++;
        return { k: "assign", target, value, pos };
      }
    }
    this.i = start;
    const call = this.call();
    this.need(";");
    return { k: "call", call, pos: call.pos };
  }

  private whileStmt(pos: SourcePos): StmtNode {
    this.i += "while".length;
    this.need("(");
    let cond: "not" | "ne" | "eq" | "truthy" = "truthy";
    if (this.lit("!")) cond = "not";
    const call = this.call();
    let value: number | undefined;
    let valuePos: SourcePos | undefined;
    if (cond === "truthy") {
      if (this.lit("!=")) cond = "ne";
      else if (this.lit("==")) cond = "eq";
      if (cond !== "truthy") ({ value, pos: valuePos } = this.number());
    }
    this.need(")");
    this.ws();
    let body: StmtNode[];
    if (this.lit(";")) body = [];
    else if (this.s[this.i] === "{") body = this.block(this.i);
    else {
      const c = this.call();
      this.need(";");
      body = [{ k: "call", call: c, pos: c.pos }];
    }
    return { k: "wait", cond, call, value, valuePos, body, pos };
  }

  private call(): CallNode {
    const w = this.word();
    if (!w || w === "while" || UNSUPPORTED.has(w) || CTYPES.has(w)) {
      this.want("an identifier");
      this.die();
    }
    const name = this.ident();
    this.need("(");
    const args: ArgNode[] = [];
    if (!this.lit(")")) {
      do args.push(this.arg());
      while (this.lit(","));
      this.need(")");
    }
    return { name, args, pos: name.pos, end: this.at(this.i) };
  }

  private arg(): ArgNode {
    this.ws();
    const start = this.i;
    const pos = this.at(start);
    const c = this.s[start];
    if (c === '"') {
      let j = start + 1;
      while (j < this.n && this.s[j] !== '"' && this.s[j] !== "\n") j++;
      if (this.s[j] !== '"') {
        this.want('"\\""', j);
        this.die();
      }
      this.i = j + 1;
      const text = this.s.slice(start, this.i);
      return { kind: "string", text, str: text.slice(1, -1), pos };
    }
    if (isDigit(this.s.charCodeAt(start))) {
      const { value } = this.number();
      return { kind: "number", text: this.s.slice(start, this.i), value, pos };
    }
    const deref = c === "*" || c === "&" ? true : undefined;
    if (deref) this.i++;
    if (!this.word()) {
      for (const x of ["a string", "a number", "an identifier"]) this.want(x);
      this.die();
    }
    const id = this.ident();
    let offset: number | undefined;
    if (this.lit("+")) offset = this.number().value;
    return { kind: "name", text: this.s.slice(start, this.i), name: id.text, deref, offset, pos };
  }

  result(): SyntaxResult {
    try {
      return { ok: true, file: this.file() };
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      return {
        ok: false,
        offset: e.offset,
        pos: this.at(e.offset),
        expected: orList(e.expected),
        message: e.message,
      };
    }
  }
}

/** Parses the (comment-blanked) text. Positions refer to `lines`. */
export function parseSyntax(text: string, lines: LineMap): SyntaxResult {
  return new SyntaxParser(text, lines).result();
}

/** The reason a syntax error gives: what was expected and found, or a hint for a known slip. */
export function syntaxReason(text: string, e: Extract<SyntaxResult, { ok: false }>): string {
  if (e.message) return e.message;
  const tok = text.slice(e.offset).match(/^\s*(\w+|\S)/);
  const found = tok ? `"${tok[1]}"` : "the end of the file";
  if (e.offset === 0 || (tok && text.slice(0, e.offset).trim() === ""))
    return `a scenario file starts with "C NAME" (the Linux-kernel litmus dialect), found ${found}`;
  if (tok && UNSUPPORTED.has(tok[1]))
    return `"${tok[1]}" is not supported: a process is straight-line code with spin-waits (while)`;
  return `syntax error: expected ${e.expected}; found ${found}`;
}
