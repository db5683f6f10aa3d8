import { readFileSync, writeFileSync } from "fs";
import Module from "module";
import { dirname, join } from "path";
import { describe, expect, it } from "vitest";
import { kernelSnapshot } from "../kernel/snapshot";
import {
  oneProgramPerCell,
  statKey,
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

describe("kernel snapshot: kept declaration files", () => {
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

  it("tslab's converter compiled once per cell converts cells as the original does", () => {
    const file = require.resolve("tslab/dist/converter");
    const source = readFileSync(file, "utf8");
    const patched = oneProgramPerCell(source);
    expect(patched).not.toBe(source);
    const m = new Module(file) as Module & { _compile(code: string, file: string): void };
    m.filename = file;
    m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(
      dirname(file),
    );
    m._compile(patched, file);
    type Converter = {
      convert(prev: string, src: string): { declOutput?: string; diagnostics: unknown[] };
      close(): void;
    };
    type Make = { createConverter(o: { isJS: boolean; isBrowser: boolean }): Converter };
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- tslab's own module
    const original = (require(file) as Make).createConverter({ isJS: false, isBrowser: false });
    const once = (m.exports as Make).createConverter({ isJS: false, isBrowser: false });
    const cells = [
      "const a = 1;\nfunction f(x: number) { return x + a; }",
      "f(a) + 1",
      "import { join } from 'path';\nlet s: string = join('a', 'b');",
      'const n: number = "x";',
    ];
    let prev = ["", ""];
    for (const cell of cells) {
      const r1 = original.convert(prev[0], cell);
      const r2 = once.convert(prev[1], cell);
      expect(r2).toEqual(r1);
      prev = [prev[0] + (r1.declOutput ?? ""), prev[1] + (r2.declOutput ?? "")];
    }
    original.close();
    once.close();
  });

  it("is not used when turned off", () => {
    expect(kernelSnapshot({ EXECMEM_LAB_KERNEL_SNAPSHOT: "0" })).toBeNull();
  });
});
