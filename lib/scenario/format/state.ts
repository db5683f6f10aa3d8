/** What the parts of the parser share while reading one file: the spec so far and its names. */
import type { SourcePos } from "../../model";
import type { Op, RegionSpec, ScenarioSpec } from "../spec";
import { FormatError } from "./errors";
import type { LineMap } from "./lexer";

/** A `while (!x)` whose value is known once every store of the file is. */
export interface PendingWait {
  op: Extract<Op, { op: "await" }>;
  loc: string;
  pos: SourcePos;
  written: string;
}

export class ParseState {
  readonly data = new Map<string, number>();
  readonly regions = new Map<string, RegionSpec>();
  readonly pageNames = new Set<string>();
  readonly frameNames = new Set<string>();
  /** Each process's registers and what they hold. */
  readonly regs: Map<string, "data" | "call">[] = [];
  readonly pending: PendingWait[] = [];

  constructor(
    readonly spec: ScenarioSpec,
    readonly file: string,
    readonly lines: LineMap,
  ) {}

  fail(message: string, at: SourcePos): never {
    throw new FormatError(message, this.file, at.line, at.column);
  }
}
