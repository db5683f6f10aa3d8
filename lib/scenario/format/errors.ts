/** Errors of the scenario text format, and the "did you mean" hint they give. */

/** A malformed scenario file. `message` is "file:line:column: reason". */
export class FormatError extends Error {
  constructor(
    public readonly reason: string,
    public readonly file: string,
    public readonly line: number,
    public readonly column: number,
  ) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.name = "FormatError";
  }
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length];
}

/** ` (did you mean X?)` for the candidate nearest to `word`, or "" when none is near. */
export function suggest(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bd = Infinity;
  for (const c of candidates) {
    const dist = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (dist < bd) {
      bd = dist;
      best = c;
    }
  }
  return best !== undefined && bd <= Math.max(1, Math.floor(word.length / 3))
    ? ` (did you mean ${best}?)`
    : "";
}
