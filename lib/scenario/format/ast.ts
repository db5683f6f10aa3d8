/** The syntax tree of a scenario file (grammar.ts builds it), with source positions. */
import type { SourcePos } from "../../model";

export interface Name {
  text: string;
  pos: SourcePos;
}

export interface ArgNode {
  kind: "name" | "number" | "string";
  /** Source text as written. */
  text: string;
  /** Identifier (kind "name"), decimal value (kind "number") or contents (kind "string"). */
  name?: string;
  value?: number;
  str?: string;
  /** Written with a leading `*` or `&`. */
  deref?: boolean;
  /** `f+1`: the number after the plus. */
  offset?: number;
  pos: SourcePos;
}

export interface CallNode {
  name: Name;
  args: ArgNode[];
  pos: SourcePos;
  /** Position just after the closing parenthesis. */
  end: SourcePos;
}

export type StmtNode =
  | { k: "call"; call: CallNode; result?: Name; pos: SourcePos }
  | {
      k: "wait";
      cond: "not" | "ne" | "eq" | "truthy";
      call: CallNode;
      value?: number;
      valuePos?: SourcePos;
      body: StmtNode[];
      pos: SourcePos;
    }
  | { k: "block"; body: StmtNode[]; pos: SourcePos }
  | { k: "decl"; pos: SourcePos }
  | { k: "empty"; pos: SourcePos }
  | { k: "unsupported"; keyword: string; pos: SourcePos }
  | { k: "assign"; target: Name; value: string; pos: SourcePos };

export interface AttrNode {
  name: Name;
  args: { key?: Name; value: Name }[];
  pos: SourcePos;
}

export type InitNode =
  | {
      k: "code";
      name: Name;
      lines?: { value: number; pos: SourcePos };
      content: Name | Name[];
      contentPos: SourcePos;
      attrs: AttrNode[];
      pos: SourcePos;
    }
  | { k: "page"; name: Name; value: Name; attrs: AttrNode[]; pos: SourcePos }
  | { k: "frame"; name: Name; value: Name; attrs: AttrNode[]; pos: SourcePos }
  | { k: "data"; name: Name; value?: { value: number; pos: SourcePos }; pos: SourcePos };

export type DirectiveNode =
  | { k: "arch"; value: Name; pos: SourcePos }
  | { k: "speculate"; proc: Name; regions: Name[]; pos: SourcePos }
  | { k: "interrupts"; proc: Name; count: { value: number; pos: SourcePos }; pos: SourcePos }
  | { k: "handled"; classes: Name[]; pos: SourcePos };

export interface ProcNode {
  name: Name;
  /** The parameters' names (`int *x` -> x): LKMM declares shared locations this way. */
  params: Name[];
  body: StmtNode[];
  pos: SourcePos;
}

export interface FileNode {
  name: Name;
  headerPos: SourcePos;
  directives: DirectiveNode[];
  init: InitNode[];
  initPos: SourcePos;
  procs: ProcNode[];
  /** The final condition's text and the position of its first character. */
  final?: { text: string; pos: SourcePos };
}

export type SyntaxResult =
  | { ok: true; file: FileNode }
  | {
      ok: false;
      pos: SourcePos;
      offset: number;
      /** What would have been accepted there ("\";\" or \"}\""). */
      expected: string;
      /** A complete reason, when the failure is not a missing token. */
      message?: string;
    };
