/**
 * herd7 fidelity and speed: the 52 AArch64 instruction-fetch litmus tests
 * (../shared/litmus/aarch64-ifetch) on the arm64 machine, against herd7 7.58's observations.
 * herd7 7.58 ran the 52 in 5.7 s on this machine (cold); the target is under 2 s.
 * The 312-test class (the 52 run six times over, the size of herd7's ifetch suite) is timed
 * too, and run through herd7 side by side when herd7 is on PATH.
 */
import { createRequire } from "node:module";
import { existsSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const L = require(join(root, "lib/dist/index.js"));

/** herd7 7.58's time for the 52 tests on this machine, cold (measured once, kept here). */
const HERD7_52_S = 5.7;
const REPEAT = 6;

function herd7() {
  const r = spawnSync("herd7", ["-version"], { encoding: "utf8" });
  return r.status === 0 ? (r.stdout || r.stderr).trim() : null;
}

export default async function bench() {
  const dir = join(root, "..", "shared", "litmus", "aarch64-ifetch");
  if (!existsSync(dir)) return [{ name: `litmus corpus missing (${dir})`, value: 0, unit: "s" }];
  // First run in this process (cold: JIT warm-up included, as herd7's 5.7 s is a cold run).
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let c0 = cpu();
  const r = L.agree(dir);
  const coldCpu = cpu() - c0;
  const warm = L.agree(dir);
  const n = r.entries.length;
  const slowest = [...warm.entries].sort((a, b) => b.seconds - a.seconds)[0];
  const figures = [
    {
      name: `${n} herd7 ifetch tests: agreed ${r.agreed.length}/${n}, disagreed ${r.disagreed.length}, unsupported ${r.unsupported.length}`,
      value: r.seconds,
      unit: "s",
      target: { max: 2 },
      peer: { name: "herd7", value: HERD7_52_S },
      note: `cold, ${coldCpu.toFixed(2)} s of CPU; herd7 7.58 measured earlier on this machine`,
    },
    { name: `the same ${n}, second run (warm)`, value: warm.seconds, unit: "s" },
    { name: "litmus tests agreeing with herd7", value: r.agreed.length, unit: "", target: { min: n } },
    { name: `slowest litmus test (${slowest.name})`, value: slowest.seconds * 1000, unit: "ms" },
  ];

  // The 312-test class: the 52 six times over (each time parsed, translated and explored anew).
  let t0 = performance.now();
  c0 = cpu();
  let agreed = 0;
  for (let i = 0; i < REPEAT; i++) agreed += L.agree(dir).agreed.length;
  const oursS = (performance.now() - t0) / 1000;
  const oursCpu = cpu() - c0;
  const version = herd7();
  let peer = { name: "herd7 (52-test time x 6)", value: HERD7_52_S * REPEAT };
  let note = "herd7 is not on PATH here: compared with 6 x its 52-test time";
  if (version) {
    const files = readdirSync(dir).filter((f) => f.endsWith(".litmus")).map((f) => join(dir, f));
    t0 = performance.now();
    let failed = 0;
    for (let i = 0; i < REPEAT; i++) {
      const h = spawnSync("herd7", ["-variant", "self", ...files], { encoding: "utf8", maxBuffer: 1 << 28 });
      if (h.status !== 0) failed++;
    }
    peer = { name: "herd7", value: (performance.now() - t0) / 1000 };
    note = `herd7 on PATH (${version.split("\n")[0]}), run side by side on the same files${failed ? `; ${failed} herd7 runs failed` : ""}`;
  }
  figures.push({
    name: `${n * REPEAT} ifetch tests (the ${n} x ${REPEAT}): agreed ${agreed}/${n * REPEAT}`,
    value: oursS,
    unit: "s",
    target: { max: peer.value },
    peer,
    note: `${oursCpu.toFixed(2)} s of CPU; ${note}`,
  });
  return figures;
}
