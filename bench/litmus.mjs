/**
 * herd7 fidelity and speed: the 52 AArch64 instruction-fetch litmus tests
 * (../shared/litmus/aarch64-ifetch) on the arm64 machine, against herd7 7.58's observations.
 * herd7 7.58 runs the 52 in 5.7 s on the reference machine; the target is under 2 s.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const L = require(join(root, "lib/dist/index.js"));

export default async function bench() {
  const dir = join(root, "..", "shared", "litmus", "aarch64-ifetch");
  if (!existsSync(dir)) return [{ name: `litmus corpus missing (${dir})`, value: 0, unit: "s" }];
  // First run in this process (cold: JIT warm-up included, as herd7's 5.7 s is a cold run).
  const r = L.agree(dir);
  const warm = L.agree(dir);
  const n = r.entries.length;
  const slowest = [...warm.entries].sort((a, b) => b.seconds - a.seconds)[0];
  return [
    {
      name: `${n} herd7 ifetch tests: agreed ${r.agreed.length}/${n}, disagreed ${r.disagreed.length}, unsupported ${r.unsupported.length}`,
      value: r.seconds,
      unit: "s",
      target: { max: 2 },
      note: "cold; herd7 7.58: 5.7 s",
    },
    { name: `the same ${n}, second run (warm)`, value: warm.seconds, unit: "s" },
    { name: "litmus tests agreeing with herd7", value: r.agreed.length, unit: "", target: { min: n } },
    { name: `slowest litmus test (${slowest.name})`, value: slowest.seconds * 1000, unit: "ms" },
  ];
}
