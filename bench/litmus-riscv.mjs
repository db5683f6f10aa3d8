/**
 * herd7 fidelity and speed on RISC-V: the 37 instruction-fetch litmus tests with a verdict
 * (../shared/litmus/riscv-ifetch), Ziccif-only on riscv64 and Ziccid on riscv64+ziccid, and the
 * states the late fetch of riscv64 costs.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const L = require(join(root, "lib/dist/index.js"));

export default async function bench() {
  const dir = join(root, "..", "shared", "litmus", "riscv-ifetch");
  if (!existsSync(dir)) return [{ name: `RISC-V litmus corpus missing (${dir})`, value: 0, unit: "s" }];
  const out = [];
  for (const c of L.riscvConfigsIn(dir)) {
    const r = L.agreeKinds(dir, c);
    const n = r.entries.length;
    const states = r.entries.reduce((a, e) => a + (e.result?.machine.states ?? 0), 0);
    const slowest = [...r.entries].sort((a, b) => b.seconds - a.seconds)[0];
    out.push(
      {
        name: `RISC-V ${c.kinds} on ${c.arch}: agreed ${r.agreed.length}/${n}, disagreed ${r.disagreed.length}, unsupported ${r.unsupported.length}`,
        value: r.seconds,
        unit: "s",
      },
      { name: `RISC-V ${c.kinds} agreeing with herd7`, value: r.agreed.length, unit: "", target: { min: 34 } },
      { name: `RISC-V ${c.kinds}: machine states, all tests`, value: states, unit: "states" },
      { name: `RISC-V ${c.kinds}: slowest test (${slowest.name})`, value: slowest.seconds * 1000, unit: "ms" },
    );
  }
  return out;
}
