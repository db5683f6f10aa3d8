import { readFileSync, writeFileSync } from "fs";
import Module from "module";
import { dirname, join } from "path";
import { afterAll, describe, expect, it } from "vitest";
import { kernelSnapshot } from "../kernel/snapshot";
import {
  applyPatches,
  forwarding,
  patchTslabConverter,
  patchTypeScript,
  TSLAB_CONVERTER_PATCHES,
  statKey,
  TYPESCRIPT_PATCHES,
  withKeptFiles,
  type SourceFileLike,
  type TypeScript,
} from "../kernel/snapshot-entry";
import { tempDir } from "./kernel-support";

// The compiler tslab uses (the one the snapshot holds).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ts = require(
  require.resolve("@tslab/typescript-for-tslab", {
    paths: [dirname(require.resolve("tslab/package.json"))],
  }),
) as typeof import("typescript");

interface Watch {
  getProgram(): { getProgram(): import("typescript").Program };
  close(): void;
}

/** A watch program as tslab makes one, through `shim`, over root.ts importing ./decl. */
function watchProgram(shim: TypeScript, dir: string, sys: typeof ts.sys = ts.sys): Watch {
  const root = join(dir, "root.ts");
  writeFileSync(root, 'import { x } from "./decl";\nexport const y: number = x;\n');
  const host = (shim.createWatchCompilerHost as unknown as typeof ts.createWatchCompilerHost)(
    [root],
    // No default library: the test is about decl.d.ts, and parsing lib.d.ts three times is slow.
    { noEmit: true, noLib: true, types: [] },
    sys,
    undefined,
    () => {},
    () => {},
  );
  return ts.createWatchProgram(host) as unknown as Watch;
}

const TS_FILE = require.resolve("@tslab/typescript-for-tslab", {
  paths: [dirname(require.resolve("tslab/package.json"))],
});
const CONVERTER = require.resolve("tslab/dist/converter");

type Converter = {
  convert(prev: string, src: string): { declOutput?: string; diagnostics: unknown[] };
  inspect(prev: string, src: string, pos: number): unknown;
  complete(
    prev: string,
    src: string,
    pos: number,
  ): { start: number; end: number; candidates: string[] };
  addModule(name: string, content: string): unknown;
  close(): void;
};
type Make = { createConverter(o: { isJS: boolean; isBrowser: boolean }): Converter };

/** A CommonJS module compiled from `source`, as if loaded from `file`. */
function compiled(file: string, source: string): unknown {
  const m = new Module(file) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(
    dirname(file),
  );
  m._compile(source, file);
  return m.exports;
}

let patchedTs: typeof ts | undefined;
/** A copy of tslab's TypeScript with the snapshot's patches. */
function patchedTypeScript(): typeof ts {
  patchedTs ??= compiled(TS_FILE, patchTypeScript(readFileSync(TS_FILE, "utf8"))) as typeof ts;
  return patchedTs;
}

/** tslab's converter module loaded with `typescript` as its TypeScript, its source patched. */
function converterModule(typescript: unknown, patch: (s: string) => string): Make {
  const cache = (Module as unknown as { _cache: Record<string, { exports: unknown } | undefined> })
    ._cache;
  const saved = cache[TS_FILE];
  cache[TS_FILE] = { exports: typescript };
  try {
    return compiled(CONVERTER, patch(readFileSync(CONVERTER, "utf8"))) as Make;
  } finally {
    cache[TS_FILE] = saved;
  }
}

/**
/**
 * Converters as kernels started from one snapshot have, and the number of programs their watch
 * hosts have made so far.
 */
function snapshotConverters(typescript: typeof ts): { make(): Converter; programs(): number } {
  let watch: Watch | undefined;
  const capture = forwarding(typescript as unknown as TypeScript, {
    createWatchProgram: (h: unknown) =>
      (watch = typescript.createWatchProgram(h as never) as unknown as Watch),
  });
  const first = converterModule(capture, (x) => x).createConverter({
    isJS: false,
    isBrowser: false,
  });
  first.convert("", 'import "execmem-lab";\n');
  const kept = new Map<string, SourceFileLike>();
  const stats = new Map<string, string>();
  for (const f of watch?.getProgram().getProgram().getSourceFiles() ?? []) {
    const file = f as unknown as SourceFileLike;
    if (file.isDeclarationFile && dirname(file.path) !== process.cwd()) {
      kept.set(file.path, file);
      stats.set(file.path, statKey(file.fileName) ?? "");
    }
  }
  first.close();
  expect(kept.size).toBeGreaterThan(50);
  const shim = withKeptFiles(typescript as unknown as TypeScript, kept, stats);
  let programs = 0;
  const counting = forwarding(shim, {
    createWatchCompilerHost: (...args: unknown[]) => {
      const host = (
        shim.createWatchCompilerHost as (...a: unknown[]) => {
          createProgram(...a: unknown[]): unknown;
        }
      )(...args);
      const create = host.createProgram.bind(host);
      host.createProgram = (...a: unknown[]) => (programs++, create(...a));
      return host;
    },
  });
  const make = converterModule(counting, patchTslabConverter);
  return {
    make: () => make.createConverter({ isJS: false, isBrowser: false }),
    programs: () => programs,
  };
}

let shared: ReturnType<typeof snapshotConverters> | undefined;
/**
 * Converters as a kernel started from the snapshot has (one set for this file: each set parses
 * all declaration files once): TypeScript patched, the declaration files of a first program
 * (`import "execmem-lab"`) kept, tslab's converter patched.
 */
function snapshotConverter(): ReturnType<typeof snapshotConverters> {
  return (shared ??= snapshotConverters(patchedTypeScript()));
}

let original: Converter | undefined;
/** tslab's own converter (one for this file; each cell sets its whole content). */
function originalConverter(): Converter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- tslab's own module
  return (original ??= (require(CONVERTER) as Make).createConverter({
    isJS: false,
    isBrowser: false,
  }));
}

describe("kernel snapshot: kept declaration files", () => {
  afterAll(() => original?.close());

  it("a program takes a kept file while its text on disk is the same, and parses it again once changed", () => {
    const dir = tempDir("snapshot");
    const decl = join(dir, "decl.d.ts");
    writeFileSync(decl, "export declare const x: number;\n");
    // What the snapshot keeps: the files of a program built before.
    const before = watchProgram(ts as unknown as TypeScript, dir);
    const kept = new Map<string, SourceFileLike>();
    for (const f of before.getProgram().getProgram().getSourceFiles()) {
      const file = f as unknown as SourceFileLike;
      if (file.isDeclarationFile) kept.set(file.path, file);
    }
    before.close();
    const keptDecl = [...kept.values()].find((f) => f.path.endsWith("/decl.d.ts"));
    expect(keptDecl).toBeDefined();

    const shim = withKeptFiles(ts as unknown as TypeScript, kept);
    const same = watchProgram(shim, dir);
    const program = same.getProgram().getProgram();
    expect(program.getSourceFiles().find((f) => f.fileName === decl)).toBe(keptDecl);
    // The root file (a cell, in tslab) is never taken from the snapshot.
    expect(program.getSourceFiles().some((f) => f.fileName.endsWith("root.ts"))).toBe(true);
    const errors = (p: import("typescript").Program) =>
      p
        .getSemanticDiagnostics(p.getSourceFile(join(dir, "root.ts")))
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, ""));
    expect(errors(program)).toEqual([]);
    same.close();

    writeFileSync(decl, "export declare const x: boolean;\n");
    const changed = watchProgram(shim, dir);
    const p2 = changed.getProgram().getProgram();
    const fresh = p2.getSourceFiles().find((f) => f.fileName === decl);
    expect(fresh).not.toBe(keptDecl);
    expect(fresh?.text).toContain("boolean");
    // The new declaration is what the checker sees.
    expect(errors(p2)).toEqual(["Type 'boolean' is not assignable to type 'number'."]);
    changed.close();
  });

  it("a kept file whose size and time of change are those it was kept with is taken unread", () => {
    const dir = tempDir("snapshot-stat");
    const decl = join(dir, "decl.d.ts");
    writeFileSync(decl, "export declare const x: number;\n");
    const before = watchProgram(ts as unknown as TypeScript, dir);
    const keptDecl = before
      .getProgram()
      .getProgram()
      .getSourceFiles()
      .find((f) => f.fileName === decl) as unknown as SourceFileLike;
    before.close();
    const kept = new Map([[keptDecl.path, keptDecl]]);
    const stats = new Map([[keptDecl.path, statKey(decl) ?? ""]]);
    const reads: string[] = [];
    const sys = { ...ts.sys, readFile: (f: string) => (reads.push(f), ts.sys.readFile(f)) };
    const shim = withKeptFiles(ts as unknown as TypeScript, kept, stats);
    const same = watchProgram(shim, dir, sys);
    expect(same.getProgram().getProgram().getSourceFile(decl)).toBe(keptDecl);
    expect(reads).not.toContain(decl);
    same.close();

    writeFileSync(decl, "export declare const x: boolean;\n");
    const changed = watchProgram(shim, dir, sys);
    expect(changed.getProgram().getProgram().getSourceFile(decl)?.text).toContain("boolean");
    changed.close();
  });

  it("tslab's converter, patched as the snapshot loads it, converts cells as the original does", () => {
    const source = readFileSync(CONVERTER, "utf8");
    expect(applyPatches(source, TSLAB_CONVERTER_PATCHES).applied).toEqual(
      TSLAB_CONVERTER_PATCHES.map((p) => p.name),
    );
    const original = originalConverter();
    const once = snapshotConverter().make();
    const helper =
      "export const h: number = 2;\nexport function twice(x: number) { return 2 * x; }\n";
    expect(once.addModule("helper", helper)).toEqual(original.addModule("helper", helper));
    const cells = [
      "const a = 1;\nfunction f(x: number) { return x + a; }",
      "f(a) + 1",
      "import { join } from 'path';\nlet s: string = join('a', 'b');",
      "s.length + a",
      'import { architectures } from "execmem-lab";\nconst names = Object.keys(architectures);\ninterface P { q: number }',
      "const p: P = { q: names.length };\np.q",
      'import { h, twice } from "./helper";\ntwice(h) + p.q',
      'const n: number = "x";',
      "const m: string = 3;\nlet ok = 1;\nok + undefinedName",
      'declare module "path" {\n  export const extra: number;\n}\nimport { extra } from "path";\nconst e: number = extra;',
      'declare module "./helper" {\n  interface Extra { z: number }\n}\nimport type { Extra } from "./helper";\nconst x: Extra = { z: h };\nx.z',
      "await Promise.resolve(a)",
      "type T = { k: string };\nclass C { v = 1 }\nenum E { X, Y }\nnew C().v + E.Y",
      "let s2 = (",
      "names.length",
    ];
    let prev = ["", ""];
    for (const cell of cells) {
      const r1 = original.convert(prev[0], cell);
      const r2 = once.convert(prev[1], cell);
      expect(r2, cell).toEqual(r1);
      // As tslab's executor: a cell that compiles replaces the declarations.
      if (!r1.diagnostics.length) prev = [r1.declOutput ?? "", r2.declOutput ?? ""];
    }
    // Hover and completion over the same declarations.
    const src = "names.map((x) => x.length);\np.";
    for (const pos of [1, 11, src.length]) {
      expect(once.inspect(prev[1], src, pos)).toEqual(original.inspect(prev[0], src, pos));
      const [c1, c2] = [original.complete(prev[0], src, pos), once.complete(prev[1], src, pos)];
      expect([c2.start, c2.end, c2.candidates]).toEqual([c1.start, c1.end, c1.candidates]);
    }
    once.close();
  });

  it("tslab's converter, patched, makes its first program with its first cell, whatever comes first", () => {
    const snapshot = snapshotConverter();
    const original = originalConverter();
    const prev = original.convert("", "const a = 1;\nconst names = ['x', 'yz'];").declOutput ?? "";
    // A first cell: one program (tslab makes one for its empty files when created, then another).
    let before = snapshot.programs();
    const first = snapshot.make();
    expect(snapshot.programs()).toBe(before);
    expect(first.convert(prev, "a + names.length")).toEqual(
      original.convert(prev, "a + names.length"),
    );
    expect(snapshot.programs() - before).toBe(1);
    first.close();
    // A first cell that declares names (compiled once they are exported).
    before = snapshot.programs();
    const declaring = snapshot.make();
    const cell1 =
      'import { architectures } from "execmem-lab";\nconst b = a + Object.keys(architectures).length;';
    expect(declaring.convert(prev, cell1)).toEqual(original.convert(prev, cell1));
    expect(snapshot.programs() - before).toBe(1);
    declaring.close();
    // Hover or completion before any cell.
    const src = "names.map((x) => x.length);\na.";
    const hover = snapshot.make();
    expect(hover.inspect(prev, src, 11)).toEqual(original.inspect(prev, src, 11));
    hover.close();
    const completion = snapshot.make();
    const [c1, c2] = [
      original.complete(prev, src, src.length),
      completion.complete(prev, src, src.length),
    ];
    expect(c2.candidates).toEqual(c1.candidates);
    expect(c2.candidates).toContain("toFixed");
    completion.close();
    // A module before any cell, then a cell importing it.
    const withModule = snapshot.make();
    const helper = "export const h: number = 2;\n";
    expect(withModule.addModule("helper2", helper)).toEqual(original.addModule("helper2", helper));
    const cell = 'import { h } from "./helper2";\nh + a';
    expect(withModule.convert(prev, cell)).toEqual(original.convert(prev, cell));
    withModule.close();
    // Closed before its first cell.
    before = snapshot.programs();
    snapshot.make().close();
    expect(snapshot.programs()).toBe(before);
  });

  it("TypeScript's patches apply to the compiler tslab uses and keep its results", () => {
    const source = readFileSync(TS_FILE, "utf8");
    const { applied } = applyPatches(source, TYPESCRIPT_PATCHES);
    expect(applied).toEqual(TYPESCRIPT_PATCHES.map((p) => p.name));
    // A source that is not the expected text is left as it is.
    expect(patchTypeScript("function f() {}")).toBe("function f() {}");
    // A patch is applied whole or not at all.
    const edits = [
      { from: "a", to: "x" },
      { from: "c", to: "y" },
    ];
    expect(applyPatches("a b", [{ name: "p", edits }])).toEqual({ source: "a b", applied: [] });
    expect(applyPatches("a c", [{ name: "p", edits }])).toEqual({ source: "x y", applied: ["p"] });
    const patched = patchedTypeScript() as unknown as { getScriptTargetFeatures(): unknown };
    const features = (
      ts as unknown as { getScriptTargetFeatures(): unknown }
    ).getScriptTargetFeatures();
    expect(patched.getScriptTargetFeatures()).toBe(patched.getScriptTargetFeatures());
    expect(patched.getScriptTargetFeatures()).toEqual(features);
    // The default library files in their order: lib.es2022.d.ts's references first.
    const files = (t: typeof ts) =>
      t
        .createProgram({
          rootNames: [],
          options: {
            target: t.ScriptTarget.ES2022,
            lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
            types: [],
          },
        })
        .getSourceFiles()
        .map((f) => f.fileName);
    expect(files(patched as unknown as typeof ts)).toEqual(files(ts));
  });

  it("a builder keeps a declaration file's references while they cannot differ, and lists them as TypeScript does", () => {
    const dir = tempDir("references");
    writeFileSync(join(dir, "amb.d.ts"), 'declare module "m1" {\n  export const a: number;\n}\n');
    writeFileSync(join(dir, "dep.d.ts"), "export declare const d: number;\n");
    writeFileSync(
      join(dir, "lib.d.ts"),
      '/// <reference path="./amb.d.ts" />\nimport { d } from "./dep";\nimport { a } from "m1";\nexport declare const x: typeof d | typeof a;\n',
    );
    const uses = 'import { x } from "./lib";\nexport const y = x;\n';
    const cells = [
      uses,
      // Declaring "m1" a second time: every file then references the cell.
      'import { x } from "./lib";\ndeclare module "m1" {\n  export const b: number;\n}\nexport const y = x;\n',
      uses,
      "export const z = 1;\n",
      uses,
    ];
    /** The builder's references after each cell, and how often lib.d.ts's imports were looked up. */
    const run = (t: typeof ts) => {
      const options = { noLib: true, types: [], module: t.ModuleKind.ESNext, noEmit: true };
      const files = new Map<string, import("typescript").SourceFile>();
      const out: { references: [string, string[]][]; lookups: number }[] = [];
      let old: import("typescript").EmitAndSemanticDiagnosticsBuilderProgram | undefined;
      for (const cell of cells) {
        writeFileSync(join(dir, "cell.ts"), cell);
        const host = t.createCompilerHost(options);
        const getSourceFile = host.getSourceFile.bind(host);
        host.getSourceFile = (name, version, ...rest) => {
          if (!name.endsWith(".d.ts")) return withVersion(getSourceFile(name, version, ...rest));
          if (!files.has(name))
            files.set(name, withVersion(getSourceFile(name, version, ...rest))!);
          return files.get(name);
        };
        // As a watch does: the previous program, whose resolutions unchanged files reuse.
        const program = t.createProgram([join(dir, "cell.ts")], options, host, old?.getProgram());
        let lookups = 0;
        const checker = program.getTypeChecker();
        const counting = Object.create(checker) as typeof checker;
        counting.getSymbolAtLocation = (node) => {
          if (node.getSourceFile().fileName.endsWith("/lib.d.ts")) lookups++;
          return checker.getSymbolAtLocation(node);
        };
        program.getTypeChecker = () => counting;
        old = t.createEmitAndSemanticDiagnosticsBuilderProgram(program, host, old);
        const map = (
          old as unknown as {
            getState(): {
              referencedMap: { keys(): Iterable<string>; getValues(k: string): Set<string> };
            };
          }
        ).getState().referencedMap;
        out.push({
          references: [...map.keys()].map((k) => [k, [...map.getValues(k)]]),
          lookups,
        });
      }
      return out;
    };
    const withVersion = (f: import("typescript").SourceFile | undefined) => {
      if (f) (f as unknown as { version: string }).version = f.text;
      return f;
    };
    const original = run(ts);
    const patched = run(patchedTypeScript());
    expect(patched.map((p) => p.references)).toEqual(original.map((p) => p.references));
    const cellPath = join(dir, "cell.ts");
    const libRefs = (r: [string, string[]][]) => r.find(([k]) => k.endsWith("/lib.d.ts"))?.[1];
    expect(libRefs(original[1].references)).toContain(cellPath);
    expect(libRefs(original[2].references)).not.toContain(cellPath);
    // lib.d.ts's imports looked up when first seen and after the second "m1" came, then kept.
    expect(original.map((p) => p.lookups)).toEqual([2, 2, 2, 0, 2]);
    expect(patched.map((p) => p.lookups)).toEqual([2, 2, 0, 0, 0]);
  });

  it("is not used when turned off", () => {
    expect(kernelSnapshot({ EXECMEM_LAB_KERNEL_SNAPSHOT: "0" })).toBeNull();
  });
});
