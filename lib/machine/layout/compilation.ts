/**
 * What every part of compile() shares: the scenario, its architecture, the interned version
 * names and the error that names the scenario and the statement.
 */
import { getArch, type ArchVariant } from "../../arch";
import { ScenarioError, type SourcePos } from "../../model";
import { FormatError } from "../../scenario/format/errors";
import { MAX_VALUE, type ScenarioSpec } from "../../scenario/spec";

export class Compilation {
  readonly name: string;
  readonly arch: ArchVariant;
  /** Version names by id; id 0 is the trap fill. */
  readonly versions: string[] = ["trap"];

  constructor(readonly spec: ScenarioSpec) {
    this.name = spec.name || "scenario";
    try {
      this.arch = getArch(spec.arch);
    } catch (e) {
      throw this.err((e as Error).message);
    }
  }

  /** The error for `message`: a FormatError at the file's position when the spec was parsed. */
  err(message: string, pos?: SourcePos): Error {
    const src = this.spec.source;
    if (!src) return new ScenarioError(message, this.name, pos);
    const at = pos ?? src.pos;
    return new FormatError(message, src.file, at.line, at.column);
  }

  /** The id of a version name, interned on first use. */
  vid(v: string): number {
    let i = this.versions.indexOf(v);
    if (i < 0) {
      i = this.versions.length;
      this.versions.push(v);
    }
    return i;
  }

  checkValue(v: number, what: string, pos?: SourcePos): void {
    if (!Number.isInteger(v) || v < 0 || v > MAX_VALUE)
      throw this.err(`${what}: value must be an integer 0..${MAX_VALUE}, got ${v}`, pos);
  }
}
