/** nbformat 4 notebooks: the parts the runner reads and writes. */
import { readFileSync } from "fs";

export type MultilineString = string | string[];

export interface StreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr";
  text: MultilineString;
}
export interface DataOutput {
  output_type: "display_data" | "execute_result";
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  execution_count?: number | null;
  /** Not stored in files: the display id for update_display_data while executing. */
  transient?: { display_id?: string };
}
export interface ErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
}
export type Output = StreamOutput | DataOutput | ErrorOutput;

export interface CodeCell {
  cell_type: "code";
  id?: string;
  source: MultilineString;
  metadata: Record<string, unknown> & { tags?: string[] };
  outputs: Output[];
  execution_count: number | null;
}
export interface TextCell {
  cell_type: "markdown" | "raw";
  id?: string;
  source: MultilineString;
  metadata: Record<string, unknown> & { tags?: string[] };
  attachments?: Record<string, unknown>;
}
export type Cell = CodeCell | TextCell;

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

/** Kernelspec metadata the runner writes into executed notebooks. */
export const KERNELSPEC_METADATA = {
  kernelspec: {
    name: "execmem-lab",
    display_name: "execmem-lab (TypeScript)",
    language: "typescript",
  },
  language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" },
};

export function joinSource(s: MultilineString | undefined): string {
  if (s === undefined) return "";
  return Array.isArray(s) ? s.join("") : s;
}

/** Split text into nbformat's list-of-lines form (each line keeps its "\n"). */
export function splitLines(s: string): string[] {
  return s.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function tagsOf(cell: Cell): string[] {
  const t = cell.metadata?.tags;
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === "string") : [];
}

/** A notebook file that cannot be used, with the reason and where. */
export class NotebookError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = "NotebookError";
  }
}

/** Read and check an nbformat 4 notebook; errors name the file and the cell. */
export function readNotebook(file: string, path: string = file): Notebook {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NotebookError(path, code === "ENOENT" ? "notebook not found" : String(e));
  }
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    throw new NotebookError(path, `not valid JSON (${(e as Error).message})`);
  }
  return checkNotebook(path, nb);
}

export function checkNotebook(path: string, nb: unknown): Notebook {
  if (typeof nb !== "object" || nb === null || Array.isArray(nb)) {
    throw new NotebookError(path, "not an nbformat notebook (top level is not an object)");
  }
  const n = nb as Partial<Notebook>;
  if (n.nbformat !== 4) {
    throw new NotebookError(
      path,
      `nbformat is ${JSON.stringify(n.nbformat)}; only nbformat 4 is supported`,
    );
  }
  if (!Array.isArray(n.cells)) throw new NotebookError(path, `"cells" is not a list`);
  n.cells.forEach((c, i) => {
    const where = `cell ${i + 1}`;
    if (typeof c !== "object" || c === null)
      throw new NotebookError(path, `${where} is not an object`);
    if (!["code", "markdown", "raw"].includes(c.cell_type)) {
      throw new NotebookError(path, `${where} has cell_type ${JSON.stringify(c.cell_type)}`);
    }
    const src = c.source as unknown;
    if (
      typeof src !== "string" &&
      !(Array.isArray(src) && src.every((l) => typeof l === "string"))
    ) {
      throw new NotebookError(path, `${where}: "source" must be a string or a list of strings`);
    }
    c.metadata ??= {};
    if (c.cell_type === "code") {
      if (!Array.isArray(c.outputs)) c.outputs = [];
      if (c.execution_count === undefined) c.execution_count = null;
    }
  });
  return {
    nbformat: 4,
    nbformat_minor: typeof n.nbformat_minor === "number" ? n.nbformat_minor : 5,
    metadata: typeof n.metadata === "object" && n.metadata ? n.metadata : {},
    cells: n.cells,
  };
}

/** Serialise as Jupyter does (1-space indent, multiline strings as lists, no transient). */
export function serializeNotebook(nb: Notebook): string {
  const cells = nb.cells.map((c) => {
    const base = { ...c, source: splitLines(joinSource(c.source)) };
    if (c.cell_type !== "code") return base;
    return {
      ...base,
      outputs: c.outputs.map((o) => {
        if (o.output_type === "stream") return { ...o, text: splitLines(joinSource(o.text)) };
        if (o.output_type === "error") return o;
        const data: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(o.data)) {
          data[k] = typeof v === "string" && !k.endsWith("json") ? splitLines(v) : v;
        }
        const { transient: _t, ...rest } = o;
        return { ...rest, data };
      }),
    };
  });
  return JSON.stringify({ ...nb, cells }, null, 1) + "\n";
}

/** One line of a cell's source, for naming the cell in messages. */
export function cellLabel(cell: Cell, index: number): string {
  const first = joinSource(cell.source)
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  const snippet = first ? (first.length > 50 ? first.slice(0, 47) + "..." : first) : "(empty)";
  return `cell ${index + 1}${cell.id ? ` [id ${cell.id}]` : ""} (${JSON.stringify(snippet)})`;
}
