/** `execmem-lab render` on bad sizes and a broken Chromium: one line, no empty or partial image. */
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { cli, lines, tempDir } from "./support";

function setup() {
  const dir = tempDir("render");
  const fig = join(dir, "f.json");
  writeFileSync(fig, JSON.stringify({ data: [{ type: "bar", y: [1, 2] }], layout: {} }));
  const out = join(dir, "out.png");
  writeFileSync(out, "an existing image");
  return { fig, out };
}

describe("render: sizes and Chromium", () => {
  for (const [args, message] of [
    [["-s", "50"], /figure width 900 px × scale 50 = 45000 px: an image side is at most 16384 px/],
    [
      ["-W", "100000"],
      /figure width 100000 px × scale 1 = 100000 px: an image side is at most 16384/,
    ],
    [["-H", "3"], /figure height 3: must be at least 10 px/],
  ] as const) {
    it(`${args.join(" ")}: refused, the existing image kept`, async () => {
      const { fig, out } = setup();
      const r = await cli(["render", fig, out, ...args]);
      expect(r.status).not.toBe(0);
      expect(r.stdout).not.toMatch(/wrote/);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(readFileSync(out, "utf8")).toBe("an existing image");
    });
  }

  it("--chromium /bin/false: one line saying Chromium failed to start and how to point at one", async () => {
    const { fig, out } = setup();
    const r = await cli(["render", fig, out, "--chromium", "/bin/false"], { timeoutMs: 60_000 });
    expect(r.status).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^execmem-lab: Chromium failed to start \(\/bin\/false\): .*; point --chromium or EXECMEM_LAB_CHROMIUM at a working Chromium/,
    );
    expect(readFileSync(out, "utf8")).toBe("an existing image");
  });
});
