/**
 * No architecture-name comparison outside lib/arch: eslint enforces it on lib/ and kernel/
 * (eslint.config.mjs); notebooks/src, which eslint does not read, is checked here with the
 * same rule.
 */
import { readdirSync } from "fs";
import { join } from "path";
import { pathToFileURL } from "url";
import { ESLint, type Linter } from "eslint";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";
import { ROOT } from "./kernel-support";

async function linter(): Promise<ESLint> {
  const config = (await import(pathToFileURL(join(ROOT, "eslint.config.mjs")).href)) as {
    ARCH_NAME_RULE: Linter.RuleEntry;
  };
  return new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    ignore: false,
    overrideConfig: [
      {
        files: ["**/*.ts"],
        languageOptions: { parser: tseslint.parser as Linter.Parser },
        rules: { "no-restricted-syntax": config.ARCH_NAME_RULE },
      },
    ],
  });
}

describe("architecture names", () => {
  it("the rule finds each kind of comparison, and not a lookup by name", async () => {
    const eslint = await linter();
    const bad = [
      'if (arch === "arm64") f();',
      'const x = "x86_64" !== arch;',
      'switch (fam) { case "riscv64": break; }',
      'if (a.startsWith("x86")) f();',
      "if (arch == `riscv64+ziccid`) f();",
    ];
    for (const code of bad) {
      const [r] = await eslint.lintText(code, { filePath: join(ROOT, "notebooks/src/x.ts") });
      expect(
        r.messages.map((m) => m.ruleId),
        code,
      ).toEqual(["no-restricted-syntax"]);
    }
    const [ok] = await eslint.lintText(
      'const a = byArch(rows)["arm64"]; p.steps(archSequence(v, "cacheMaintenance"), "f");',
      { filePath: join(ROOT, "notebooks/src/x.ts") },
    );
    expect(ok.messages).toEqual([]);
  });

  it("no notebook source compares a value with an architecture name", async () => {
    const dir = join(ROOT, "notebooks", "src");
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(dir, f));
    expect(files.length).toBeGreaterThan(10);
    const results = await (await linter()).lintFiles(files);
    const found = results.flatMap((r) =>
      r.messages.map((m) => `${r.filePath.slice(ROOT.length + 1)}:${m.line}: ${m.message}`),
    );
    expect(found).toEqual([]);
  });
});
