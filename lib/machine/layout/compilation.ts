/**
 * What every part of compile() shares: the scenario, its architecture, the interned version
 * names and the error that names the scenario and the statement.
 */
import { getArch, type ArchVariant } from "../../arch";
import { ScenarioError, type SourcePos } from "../../model";
import type { ScenarioSpec } from "../../scenario/spec";

/** CPUs a scenario may have. */
export const MAX_CPUS = 8;
/** Registers one CPU may use. */
export const MAX_REGISTERS = 16;
/** Integers a data location or register holds are 0..MAX_VALUE (larger codes are symbols). */
export const MAX_VALUE = 99;

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

  err(message: string, pos?: SourcePos): Error {
    return new ScenarioError(message, this.name, pos);
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
