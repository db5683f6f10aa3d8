/**
 * Every function and class the library exports carries a doc comment, so that inspect
 * (shift-tab) in the kernel and editor hover say what it does.
 */
import { join } from "path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "./kernel-support";

describe("library API documentation", () => {
  it("every function and class exported from lib/index.ts has a TSDoc comment", () => {
    const index = join(ROOT, "lib", "index.ts");
    const program = ts.createProgram([index], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      strict: true,
      noEmit: true,
      // Doc comments need the library's own declarations only: no @types packages, the ES lib.
      types: [],
      lib: ["lib.es2022.d.ts"],
    });
    const checker = program.getTypeChecker();
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
    const checked: string[] = [];
    const undocumented: string[] = [];
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const s =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const d = s.getDeclarations()?.[0];
      if (!d) continue;
      const isFunction =
        ts.isFunctionDeclaration(d) ||
        ts.isClassDeclaration(d) ||
        (ts.isVariableDeclaration(d) &&
          !!d.initializer &&
          (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer)));
      if (!isFunction) continue;
      checked.push(exported.name);
      if (!ts.displayPartsToString(s.getDocumentationComment(checker)).trim()) {
        const sf = d.getSourceFile();
        const line = sf.getLineAndCharacterOfPosition(d.getStart()).line + 1;
        undocumented.push(`${exported.name} (${sf.fileName.slice(ROOT.length + 1)}:${line})`);
      }
    }
    expect(checked.length).toBeGreaterThan(100);
    expect(undocumented).toEqual([]);
  }, 60_000);
});
