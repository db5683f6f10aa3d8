/**
 * The layer order of lib/ (docs/architecture.md): an import may go down the order or sideways
 * within a layer, never up. The checker reads every import of every lib/**\/*.ts with the
 * TypeScript compiler's pre-processor (static imports, `export ... from`, `import()`, `require`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "fs";
import { dirname, join, posix, relative, sep } from "path";
import ts from "typescript";

/**
 * Bottom to top; each entry is a layer: the lib/ folders or top-level files in it. The display
 * hook (display.ts: how a value shows itself in a notebook, progress bars, tables) imports nothing
 * from lib/ and serves every layer (the explorer's progress and tables, the plots' figures), so it
 * sits at the bottom beside the vocabulary; index.ts, the public surface, is the top.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["model", "display.ts"],
  ["arch"],
  ["scenario"],
  ["machine"],
  ["explorer"],
  ["litmus", "execmem", "cost"],
  ["plots"],
  ["index.ts"],
];

/** The layer (index into LAYERS) of a path relative to lib/ ("machine/layout.ts"), or -1. */
export function layerOf(file: string): number {
  const head = file.split("/")[0];
  return LAYERS.findIndex((l) => l.includes(head));
}

/** One import of one lib file: both paths relative to lib/, with "/" separators. */
export interface LibImport {
  from: string;
  to: string;
  /** The import as written ("../explorer/result"). */
  spec: string;
}

/** An import that goes up the layer order, or a file outside every layer. */
export interface LayerViolation extends LibImport {
  reason: string;
}

/** "from -> to", the key of an allow-list entry. */
export const importKey = (i: { from: string; to: string }): string => `${i.from} -> ${i.to}`;

/** The imports among `imports` that break the layer order. */
export function layerViolations(imports: readonly LibImport[]): LayerViolation[] {
  const out: LayerViolation[] = [];
  for (const i of imports) {
    const a = layerOf(i.from);
    const b = layerOf(i.to);
    if (a < 0) out.push({ ...i, reason: `${i.from} is in no layer` });
    else if (b < 0) out.push({ ...i, reason: `${i.to} is in no layer` });
    else if (b > a)
      out.push({
        ...i,
        reason: `${i.from} (${LAYERS[a].join("|")}) imports "${i.spec}" (${LAYERS[b].join("|")}), a higher layer`,
      });
  }
  return out;
}

function libFiles(dir: string, root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== "dist" && name !== "node_modules") out.push(...libFiles(p, root));
    } else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** The file a relative import names: x.ts, x/index.ts, or (for "./x.js") x.ts. */
function resolveImport(fromFile: string, spec: string): string | undefined {
  const base = join(dirname(fromFile), spec).replace(/\.js$/, "");
  for (const c of [base, `${base}.ts`, join(base, "index.ts")])
    if (existsSync(c) && statSync(c).isFile()) return c;
  return undefined;
}

/** Every relative import of every .ts file under `lib` (a directory), paths relative to `lib`. */
export function libImports(lib: string): LibImport[] {
  return relativeImports(lib, lib);
}

/**
 * Every relative import of every .ts file under `dir`, with both paths relative to `base`
 * (a target outside `base` starts with "..").
 */
export function relativeImports(dir: string, base: string): LibImport[] {
  const rel = (p: string) => relative(base, p).split(sep).join(posix.sep);
  const out: LibImport[] = [];
  for (const file of libFiles(dir, dir)) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith(".")) continue;
      const target = resolveImport(file, ref.fileName);
      out.push({
        from: rel(file),
        to: target ? rel(target) : `${rel(join(dirname(file), ref.fileName))} (unresolved)`,
        spec: ref.fileName,
      });
    }
  }
  return out;
}
