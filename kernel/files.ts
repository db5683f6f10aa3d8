/** File-system helpers for the commands that write files (runner, render, kernel install). */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "fs";
import { basename, dirname, join, resolve } from "path";

/** kernel/dist, where the built kernel and its caches live (also when run from the sources). */
export const KERNEL_DIST = basename(__dirname) === "dist" ? __dirname : join(__dirname, "dist");

/**
 * `mkdir -p`, one level at a time. Node's `mkdirSync(dir, { recursive: true })` never returns on
 * some paths (/proc/x spins on ENOENT); this fails with the first level it cannot create.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  while (!existsSync(d)) {
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/** Write `content` to a temporary name beside `path`, then rename: `path` is complete or absent. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  makeDirs(dirname(path));
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
