/**
 * Vitest global setup: bring lib/dist and kernel/dist up to date (tsc -b is incremental), since
 * the runner and Jupyter tests start real kernel processes from kernel/dist/launch.js.
 * A build error is printed, not thrown: the tests that need the build then fail on their own.
 */
import { spawnSync } from "child_process";
import { join } from "path";

export default function setup(): void {
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
  }
}
