/**
 * Vitest global setup: bring lib/dist and kernel/dist up to date (tsc -b is incremental), and the
 * kernel's startup snapshot if that made it stale, since the runner and Jupyter tests start real
 * kernel processes from kernel/dist/launch.js, and make
 * the folder where the test run's one shared `execmem-lab run` of all notebooks is kept
 * (tests/support/reproduce.ts). Each project runs its global setup: the build and the folder
 * are made once per vitest process.
 * A build error is printed, not thrown: the tests that need the build then fail on their own.
 */
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { kernelSnapshot } from "../kernel/snapshot";
import { SHARED_RUN_ENV } from "./support/reproduce";

export default function setup(): (() => void) | undefined {
  if (process.env[SHARED_RUN_ENV]) return undefined;
  const root = join(__dirname, "..");
  const r = spawnSync(
    process.execPath,
    [require.resolve("typescript/bin/tsc"), "-b", "lib", "kernel"],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
  if (r.status !== 0) {
    console.error(`tests/kernel-global-setup: tsc -b lib kernel failed:\n${r.stdout}${r.stderr}`);
  } else {
    // A build that changed the kernel leaves its startup snapshot stale, and every kernel of the
    // run would start without it (several times slower): make it again, as npm run build does.
    if (!kernelSnapshot({ ...process.env, EXECMEM_LAB_KERNEL_SNAPSHOT: "1" }))
      spawnSync(process.execPath, [join(root, "kernel", "dist", "snapshot.js")], {
        cwd: root,
        stdio: "inherit",
      });
  }
  // Test workers are started after this and inherit the environment.
  const shared = mkdtempSync(join(tmpdir(), "execmem-lab-shared-run-"));
  process.env[SHARED_RUN_ENV] = shared;
  return () => {
    rmSync(shared, { recursive: true, force: true });
    delete process.env[SHARED_RUN_ENV];
  };
}
