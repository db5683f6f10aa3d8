/**
 * The test suite's own speed: `npm run test:unit` (the fast project) and `npm test` (every
 * project: unit, jupyter, browser), each run once as a user runs it, wall time and the CPU time
 * of the whole process tree (Linux: /proc/self/stat cutime + cstime of waited-for children), and
 * the machine's load average (1 min) before and after: on a shared machine the wall time follows it.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) of this process's waited-for children so far, or NaN. */
function childCpu() {
  try {
    const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    // After "pid (comm) ": state is field 3, so cutime (16) and cstime (17) are at 13 and 14.
    return (Number(f[13]) + Number(f[14])) / TICKS;
  } catch {
    return NaN;
  }
}

/** The 1-minute load average, or NaN. */
function load() {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return NaN;
  }
}

function run(script) {
  const load0 = load();
  const cpu0 = childCpu();
  const t0 = process.hrtime.bigint();
  const r = spawnSync("npm", ["run", "--silent", script], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    maxBuffer: 64 << 20,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = childCpu() - cpu0;
  // Colour codes stripped in case a reporter colours anyway.
  // eslint-disable-next-line no-control-regex
  const out = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, "");
  const m = /Tests\s+(.*\(\d+\))/.exec(out);
  if (r.status !== 0) {
    const tail = out.trim().split("\n").slice(-15).join("\n");
    throw new Error(`bench/tests.mjs: npm run ${script} failed (exit ${r.status}):\n${tail}`);
  }
  return { wall, cpu, load: [load0, load()], tests: m ? m[1].trim() : "?" };
}

export default async function bench() {
  const unit = run("test:unit");
  const all = run("test");
  const cpuNote = (x) =>
    (Number.isFinite(x.cpu) ? `, ${x.cpu.toFixed(0)} s of CPU` : "") +
    (x.load.every(Number.isFinite) ? `, load ${x.load.map((l) => l.toFixed(1)).join("-")}` : "");
  return [
    {
      name: "npm run test:unit (the unit project)",
      value: unit.wall,
      unit: "s",
      target: { max: 30 },
      note: `${unit.tests}${cpuNote(unit)}`,
    },
    {
      name: "npm test (unit, jupyter and browser projects)",
      value: all.wall,
      unit: "s",
      target: { max: 90 },
      note: `${all.tests}${cpuNote(all)}`,
    },
  ];
}
