#!/usr/bin/env node
/**
 * Removes compiled files in lib/dist and kernel/dist whose TypeScript source is gone (`tsc -b`
 * never deletes them). A stale `dist/machine/layout.js` left by an older checkout would shadow
 * `dist/machine/layout/index.js` for `require("./layout")`. Run by `npm run build` before tsc.
 * Usage: node scripts/prune-dist.mjs [ROOT]   (ROOT: the checkout, by default this one)
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
if (!existsSync(join(root, "package.json"))) {
  console.error(`prune-dist: ${root} is not a checkout (no package.json there)`);
  process.exit(2);
}
const OUTPUT = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;

for (const pkg of ["lib", "kernel"]) {
  const dist = join(root, pkg, "dist");
  if (!existsSync(dist)) continue;
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !OUTPUT.test(entry.name)) continue;
    const file = join(entry.parentPath ?? entry.path, entry.name);
    const source = join(root, pkg, relative(dist, file)).replace(OUTPUT, ".ts");
    if (!existsSync(source)) {
      rmSync(file);
      console.log(`prune-dist: removed ${relative(root, file)} (no ${relative(root, source)})`);
    }
  }
}
