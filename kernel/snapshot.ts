/**
 * The kernel's V8 startup snapshot: most of a cold kernel's start is TypeScript parsing and
 * binding the same declaration files (lib.es2022, @types/node, the library's .d.ts) before the
 * first cell. `npm run build` writes a snapshot holding them (kernel/snapshot-entry.ts) to
 * kernel/dist/snapshot/; a kernel started with `node --snapshot-blob BLOB` begins with them
 * parsed and re-parses only a file whose text changed since.
 *
 * A snapshot is used only by the Node.js binary that built it and with the same TypeScript and
 * tslab files (its stamp says which); with another heap limit (V8 flags must match the build) or
 * EXECMEM_LAB_KERNEL_SNAPSHOT=0 kernels start without it, as they do when there is none.
 *
 * It is built and started with {@link SNAPSHOT_V8_FLAGS}: the heap it brings (about 80 MB) is
 * over V8's first old-generation limit, so a kernel started with the default heap settings marks
 * all of it once before its first cell, and scavenges a dozen times in a young generation that
 * starts at 1 MB.
 */
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import { existsSync, readFileSync, renameSync, rmSync, statSync } from "fs";
import { dirname, join } from "path";
import { KERNEL_DIST, makeDirs, writeFileAtomic } from "./files";

const DIST = KERNEL_DIST;
/** The builder and deserialised entry (compiled kernel/snapshot-entry.ts). */
export const SNAPSHOT_ENTRY = join(DIST, "snapshot-entry.js");
const DIR = join(DIST, "snapshot");

/** V8 heap settings a snapshot is built with, and so must be started with (see above). */
export const SNAPSHOT_V8_FLAGS = ["--initial-old-space-size=192", "--min-semi-space-size=16"];

/**
 * The glibc tunable a kernel starts from its snapshot with: malloc asks for transparent huge pages
 * for its large blocks. Node reads the 55 MB blob into such blocks (and copies it once), which
 * otherwise cost some 28,000 page faults of 4 KiB, a third of a cold kernel's system time. It
 * matters on Linux with transparent huge pages in "madvise" mode (Debian's default); elsewhere it
 * changes nothing.
 */
export const SNAPSHOT_GLIBC_TUNABLES = "glibc.malloc.hugetlb=1";

/** GLIBC_TUNABLES for a kernel started from the snapshot: ours, then any set in `env` (which win). */
export function snapshotTunables(env: NodeJS.ProcessEnv = process.env): string {
  return env.GLIBC_TUNABLES
    ? `${SNAPSHOT_GLIBC_TUNABLES}:${env.GLIBC_TUNABLES}`
    : SNAPSHOT_GLIBC_TUNABLES;
}

/**
 * What a snapshot depends on: the Node.js binary, the TypeScript compiler and tslab converter it
 * holds, and its own entry (by content: a rebuild rewrites it unchanged).
 */
export function snapshotStamp(): { [key: string]: string } {
  const tslab = dirname(require.resolve("tslab/package.json"));
  const stamp: { [key: string]: string } = {
    node: `${process.version} ${process.arch} ${process.execPath}`,
    flags: SNAPSHOT_V8_FLAGS.join(" "),
    entry: createHash("sha256").update(readFileSync(SNAPSHOT_ENTRY)).digest("hex"),
  };
  for (const f of [
    require.resolve("@tslab/typescript-for-tslab", { paths: [tslab] }),
    join(tslab, "dist", "converter.js"),
  ]) {
    const s = statSync(f);
    stamp[f] = `${s.size} ${s.mtimeMs}`;
  }
  return stamp;
}

function paths(): { blob: string; stamp: string; launch: string } {
  const name = `kernel-${process.version}-${process.arch}`;
  return {
    blob: join(DIR, `${name}.blob`),
    stamp: join(DIR, `${name}.json`),
    launch: snapshotLaunchFile(),
  };
}

/**
 * The file the kernelspec's shell step reads to start a kernel from the snapshot without running
 * Node.js first (kernel/kernelspec.ts, SNAPSHOT_LAUNCH): named by the Node.js version, it holds
 * "<node> <V8 flags>" then the blob's path. It is removed when a build starts and written once
 * the snapshot is; a kernel started from it checks that the snapshot's entry and TypeScript are
 * the files it was built from (kernel/snapshot-entry.ts).
 */
export function snapshotLaunchFile(): string {
  return join(DIR, `kernel-${process.version}.launch`);
}

/**
 * The snapshot a kernel can start from, or null (none built, built for other files or another
 * Node.js, or turned off with EXECMEM_LAB_KERNEL_SNAPSHOT=0).
 */
export function kernelSnapshot(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.EXECMEM_LAB_KERNEL_SNAPSHOT === "0") return null;
  const { blob, stamp } = paths();
  try {
    if (!existsSync(blob)) return null;
    const want = JSON.stringify(snapshotStamp());
    return readFileSync(stamp, "utf8") === want ? blob : null;
  } catch {
    return null;
  }
}

/**
 * The node arguments that start a kernel from its snapshot (V8 flags and `--snapshot-blob`), or
 * null when there is no usable one (see {@link kernelSnapshot}).
 */
export function kernelSnapshotArgs(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const blob = kernelSnapshot(env);
  return blob ? [...SNAPSHOT_V8_FLAGS, "--snapshot-blob", blob] : null;
}

/**
 * Build the snapshot (a few seconds: one kernel's TypeScript start-up). Run from the kernel
 * package's folder, so the library resolves as from a notebook in the checkout.
 * @returns the snapshot's path, or the build's error output if it failed.
 */
export function buildKernelSnapshot(): { blob: string } | { error: string } {
  const { blob, stamp, launch } = paths();
  makeDirs(DIR);
  rmSync(launch, { force: true });
  const tmp = `${blob}.tmp-${process.pid}`;
  // A snapshot's entry runs as a script, without CommonJS's `exports`: give it one. Written beside
  // the entry, so that its __dirname is the same.
  const script = join(DIST, `snapshot-entry.build-${process.pid}.js`);
  writeFileAtomic(script, `var exports = {};\n${readFileSync(SNAPSHOT_ENTRY, "utf8")}`);
  const args = [...SNAPSHOT_V8_FLAGS, "--snapshot-blob", tmp, "--build-snapshot", script];
  const r = spawnSync(process.execPath, args, {
    cwd: dirname(DIST),
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  rmSync(script, { force: true });
  if (r.status !== 0 || !existsSync(tmp)) {
    rmSync(tmp, { force: true });
    return { error: `${r.stderr || r.stdout || r.error?.message || `exit ${r.status}`}`.trim() };
  }
  renameSync(tmp, blob);
  writeFileAtomic(stamp, JSON.stringify(snapshotStamp()));
  writeFileAtomic(launch, `${process.execPath} ${SNAPSHOT_V8_FLAGS.join(" ")}\n${blob}\n`);
  return { blob };
}

if (require.main === module) {
  const t0 = Date.now();
  const r = buildKernelSnapshot();
  if ("error" in r) {
    // Kernels start without it (slower); the build itself succeeded.
    console.warn(`execmem-lab: kernel snapshot not built (kernels start without it):\n${r.error}`);
  } else {
    console.log(
      `execmem-lab: kernel snapshot ${r.blob} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
}
