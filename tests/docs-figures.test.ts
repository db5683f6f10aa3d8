/**
 * docs/img/make-figures.mjs makes the README's images from real results: it must keep finding
 * the outcomes it draws (S1's stale run, S11's oops) and building every figure.
 */
import { execFileSync } from "child_process";
import { existsSync, readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";

const root = join(__dirname, "..");

describe("docs/img/make-figures.mjs", () => {
  it("builds each figure the README shows from this run's results", () => {
    const out = execFileSync(process.execPath, ["docs/img/make-figures.mjs", "--dry-run"], {
      cwd: root,
      encoding: "utf8",
    });
    const built = [...out.matchAll(/^([\w-]+): (\d+) traces$/gm)];
    expect(built.map((m) => m[1])).toEqual([
      "residency-s1-stale",
      "residency-s11-oops",
      "fragmentation",
      "latency-vs-cpus",
      "verdicts",
    ]);
    for (const m of built) expect(Number(m[2])).toBeGreaterThan(0);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    for (const [, name] of built) {
      expect(readme).toContain(`docs/img/${name}.png`);
      expect(existsSync(join(root, "docs", "img", `${name}.png`))).toBe(true);
    }
  });
});
