/**
 * nbval-style output checks. A code cell tagged `check-output` must produce the outputs stored
 * in the notebook, compared after sanitising volatile parts (timestamps, durations, addresses,
 * ids, ANSI colours, trailing spaces). Extra sanitisers come from metadata
 * `"execmem-lab": {"sanitize": [{"regex": "...", "replace": "..."}]}` on the notebook or the cell.
 */
import type { Cell, Notebook, Output } from "./notebook";
import { joinSource } from "./notebook";

/** The tag that makes a cell's outputs a check. */
export const CHECK_TAG = "check-output";

export interface Sanitizer {
  pattern: RegExp;
  replace: string;
}

export const DEFAULT_SANITIZERS: Sanitizer[] = [
  // eslint-disable-next-line no-control-regex
  { pattern: /\x1b\[[0-9;]*[A-Za-z]/g, replace: "" },
  {
    pattern: /\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?/g,
    replace: "<TIMESTAMP>",
  },
  { pattern: /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, replace: "<UUID>" },
  { pattern: /\b0x[0-9a-f]{8,}\b/gi, replace: "<ADDRESS>" },
  { pattern: /\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms)\b|\b\d+\.\d+\s?s\b/g, replace: "<DURATION>" },
  { pattern: /execmem-lab-plot-[\w-]+/g, replace: "<PLOT-ID>" },
  { pattern: /[ \t]+$/gm, replace: "" },
];

/** The sanitisers declared in metadata["execmem-lab"].sanitize; errors name `where`. */
export function metadataSanitizers(metadata: Record<string, unknown>, where: string): Sanitizer[] {
  const own = metadata["execmem-lab"];
  if (own === undefined) return [];
  const list = (own as { sanitize?: unknown }).sanitize;
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    throw new Error(`${where}: metadata "execmem-lab".sanitize must be a list of {regex, replace}`);
  }
  return list.map((s: unknown, i) => {
    const item = s as { regex?: unknown; replace?: unknown };
    if (typeof item?.regex !== "string") {
      throw new Error(`${where}: metadata "execmem-lab".sanitize[${i}].regex must be a string`);
    }
    try {
      return {
        pattern: new RegExp(item.regex, "g"),
        replace: typeof item.replace === "string" ? item.replace : "<SANITIZED>",
      };
    } catch (e) {
      throw new Error(
        `${where}: metadata "execmem-lab".sanitize[${i}].regex is not a valid regular expression: ${(e as Error).message}`,
      );
    }
  });
}

export function sanitize(text: string, sanitizers: Sanitizer[]): string {
  let out = text;
  for (const s of sanitizers) out = out.replace(s.pattern, s.replace);
  return out;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "undefined";
}

/** The comparable form of outputs: one line of kind and one text per output. */
export interface Comparable {
  kind: string;
  text: string;
}

export function comparable(outputs: Output[], sanitizers: Sanitizer[]): Comparable[] {
  const out: Comparable[] = [];
  for (const o of outputs) {
    if (o.output_type === "stream") {
      const text = joinSource(o.text);
      const prev = out[out.length - 1];
      if (prev && prev.kind === `stream ${o.name}`) prev.text += text;
      else out.push({ kind: `stream ${o.name}`, text });
    } else if (o.output_type === "error") {
      out.push({ kind: "error", text: `${o.ename}: ${o.evalue}` });
    } else {
      const mimes = Object.keys(o.data).sort();
      const parts = [`[${mimes.join(", ")}]`];
      for (const m of mimes) {
        const v = o.data[m];
        if (m === "text/plain") parts.push(joinSource(v as string | string[]));
        else if (m === "application/json" || m.endsWith("+json"))
          parts.push(`${m}: ${canonicalJson(v)}`);
      }
      out.push({ kind: o.output_type, text: parts.join("\n") });
    }
  }
  return out.map((c) => ({ kind: c.kind, text: sanitize(c.text, sanitizers) }));
}

function clip(s: string, n = 300): string {
  return s.length > n ? s.slice(0, n) + "..." : s;
}

/** null if `got` matches `expected` after sanitising; else what differs, in words. */
export function compareOutputs(
  expected: Output[],
  got: Output[],
  sanitizers: Sanitizer[],
): string | null {
  const e = comparable(expected, sanitizers);
  const g = comparable(got, sanitizers);
  for (let i = 0; i < Math.max(e.length, g.length); i++) {
    const a = e[i];
    const b = g[i];
    if (!a) return `unexpected output ${i + 1} (${b.kind}): ${JSON.stringify(clip(b.text))}`;
    if (!b) return `missing output ${i + 1} (${a.kind}): expected ${JSON.stringify(clip(a.text))}`;
    if (a.kind !== b.kind) return `output ${i + 1} is ${b.kind}, expected ${a.kind}`;
    if (a.text !== b.text) {
      const al = a.text.split("\n");
      const bl = b.text.split("\n");
      let line = 0;
      while (line < al.length && al[line] === bl[line]) line++;
      return (
        `output ${i + 1} (${a.kind}) differs at line ${line + 1}: ` +
        `expected ${JSON.stringify(clip(al[line] ?? "<end>"))}, got ${JSON.stringify(clip(bl[line] ?? "<end>"))}`
      );
    }
  }
  return null;
}

/** The sanitisers for one cell: defaults, then notebook's, then the cell's own. */
export function sanitizersFor(
  nb: Notebook,
  cell: Cell,
  nbWhere: string,
  cellWhere: string,
): Sanitizer[] {
  return [
    ...DEFAULT_SANITIZERS,
    ...metadataSanitizers(nb.metadata, nbWhere),
    ...metadataSanitizers(cell.metadata, cellWhere),
  ];
}
