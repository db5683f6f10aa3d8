/** Errors more than one layer throws or catches, and the source position they carry. */

/** Where a scenario statement came from, for error messages. */
export interface SourcePos {
  line: number;
  column: number;
}

/**
 * A scenario that cannot run: its message is `name:line:col: what` (or `name: what` without a
 * position), with the scenario name and source position kept as fields.
 */
export class ScenarioError extends Error {
  constructor(
    message: string,
    public readonly scenario: string,
    public readonly pos?: SourcePos,
  ) {
    super(pos ? `${scenario}:${pos.line}:${pos.column}: ${message}` : `${scenario}: ${message}`);
    this.name = "ScenarioError";
  }
}
