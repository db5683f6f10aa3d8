/**
 * scripts/prune-dist.mjs (run by `npm run build`): a compiled file whose source is gone is
 * removed, so it cannot shadow a folder of the same name; every other output stays.
 */
import { execFileSync, spawnSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { dirname, join } from "path";
import { describe, expect, it } from "vitest";

describe("scripts/prune-dist.mjs", () => {
  it("removes dist files without a source and keeps the others", () => {
    const root = mkdtempSync(join(tmpdir(), "execmem-lab-prune-"));
    const put = (f: string) => {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), "");
    };
    const kept = [
      "lib/machine/layout/index.ts",
      "lib/dist/machine/layout/index.js",
      "lib/dist/machine/layout/index.d.ts",
      "lib/dist/tsconfig.tsbuildinfo",
      "kernel/launch.ts",
      "kernel/dist/launch.js.map",
      "kernel/dist/snapshot/kernel.blob",
    ];
    put("package.json");
    const stale = ["lib/dist/machine/layout.js", "lib/dist/machine/layout.d.ts.map"];
    [...kept, ...stale].forEach(put);
    const out = execFileSync(
      process.execPath,
      [join(__dirname, "..", "scripts", "prune-dist.mjs"), root],
      { encoding: "utf8" },
    );
    for (const f of kept) expect(existsSync(join(root, f)), f).toBe(true);
    for (const f of stale) expect(existsSync(join(root, f)), f).toBe(false);
    expect(out).toContain("removed lib/dist/machine/layout.js (no lib/machine/layout.ts)");
  });

  it("a ROOT that is not a checkout: exit 2 and one line naming it", () => {
    const root = join(tmpdir(), "no-such-checkout-execmem-lab");
    const r = spawnSync(
      process.execPath,
      [join(__dirname, "..", "scripts", "prune-dist.mjs"), root],
      {
        encoding: "utf8",
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`prune-dist: ${root} is not a checkout (no package.json there)`);
  });
});
