/**
 * papermill-style parameters: `-p NAME VALUE` injects a cell tagged `injected-parameters` right
 * after the cell tagged `parameters`, redeclaring NAME with VALUE (`let NAME = VALUE;`).
 */
import type { Cell, Notebook } from "./notebook";
import { joinSource, tagsOf } from "./notebook";

export const PARAMETERS_TAG = "parameters";
export const INJECTED_TAG = "injected-parameters";

export type ParamValue = string | number | boolean | null;
export type Params = Record<string, ParamValue>;

const NAME = /^[A-Za-z_$][\w$]*$/;

/**
 * Parse one `-p NAME VALUE` pair. VALUE is read as JSON when it is a number, true/false/null or
 * a quoted string, and as a plain string otherwise.
 */
export function parseParam(name: string, value: string): [string, ParamValue] {
  if (!NAME.test(name)) {
    throw new Error(`-p ${name} ${value}: ${JSON.stringify(name)} is not a valid identifier`);
  }
  const t = value.trim();
  if (/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|".*")$/.test(t)) {
    try {
      const v = JSON.parse(t) as unknown;
      // 1e999 parses as Infinity, which the injected cell would write as null.
      if (typeof v === "number" && !Number.isFinite(v))
        throw new RangeError(
          `-p ${name} ${value}: ${t} is out of range for a number (at most ${Number.MAX_VALUE})`,
        );
      if (v === null || ["string", "number", "boolean"].includes(typeof v)) {
        return [name, v as ParamValue];
      }
    } catch (e) {
      if (e instanceof RangeError) throw e;
      // a plain string after all
    }
  }
  return [name, value];
}

/** Names a cell declares at top level (let/const/var NAME). */
function declares(source: string, name: string): boolean {
  return new RegExp(`(^|[\\s;{(,])(let|const|var)\\s+${name.replace(/\$/g, "\\$")}\\b`).test(
    source,
  );
}

/**
 * The notebook with the parameters injected, or the notebook itself when `params` is empty.
 * Names not declared by the `parameters` cell are returned in `unknown` (the caller decides).
 */
export function injectParameters(
  nb: Notebook,
  params: Params,
): { notebook: Notebook; injected: boolean; unknown: string[] } {
  const names = Object.keys(params);
  if (names.length === 0) return { notebook: nb, injected: false, unknown: [] };
  const index = nb.cells.findIndex(
    (c) => c.cell_type === "code" && tagsOf(c).includes(PARAMETERS_TAG),
  );
  if (index < 0) return { notebook: nb, injected: false, unknown: names };
  const src = joinSource(nb.cells[index].source);
  const known = names.filter((n) => declares(src, n));
  const unknown = names.filter((n) => !declares(src, n));
  if (known.length === 0) return { notebook: nb, injected: false, unknown };
  const code =
    `// Parameters injected by execmem-lab run -p\n` +
    known.map((n) => `let ${n} = ${JSON.stringify(params[n])};`).join("\n");
  const cell: Cell = {
    cell_type: "code",
    id: "injected-parameters",
    source: code,
    metadata: { tags: [INJECTED_TAG] },
    outputs: [],
    execution_count: null,
  };
  const cells = [...nb.cells.slice(0, index + 1), cell, ...nb.cells.slice(index + 1)];
  return { notebook: { ...nb, cells }, injected: true, unknown };
}
