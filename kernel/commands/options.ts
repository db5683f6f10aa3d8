import { InvalidArgumentError } from "commander";

/** A commander parser for an integer option of at least `min`, naming the option on error. */
export function intOption(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(
        `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`,
      );
    return n;
  };
}
