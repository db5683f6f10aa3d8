import { InvalidArgumentError, type Command } from "commander";

/** A commander parser for an integer option of at least `min`, naming the option on error. */
export function intOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(
        `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`,
      );
    if (n > max)
      throw new InvalidArgumentError(`${name} must be at most ${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** A commander parser for a number in (0, max], naming the option on error. */
export function positiveNumber(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a number > 0, got ${JSON.stringify(v)}`);
    if (n > max)
      throw new InvalidArgumentError(`${name} must be at most ${max}, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** The bounds of an exploration a command takes (--max-states, --max-ms). */
export interface LimitOptions {
  maxStates?: number;
  maxMs?: number;
}

/** Adds --max-states and --max-ms to a command: "`stop` after this many states/milliseconds". */
export function limitOptions(cmd: Command, stop: string, max?: number): Command {
  return cmd
    .option("--max-states <n>", `${stop} after this many states`, intOption("--max-states", 1, max))
    .option("--max-ms <ms>", `${stop} after this many milliseconds`, intOption("--max-ms", 1, max));
}

/** The bounds given, without the ones not given. */
export function limitsOf(o: LimitOptions): LimitOptions {
  return {
    ...(o.maxStates !== undefined ? { maxStates: o.maxStates } : {}),
    ...(o.maxMs !== undefined ? { maxMs: o.maxMs } : {}),
  };
}
