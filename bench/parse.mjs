/**
 * Parse time per MB of scenario text (lib/scenario/format/): a file whose P0 repeats one
 * statement, at 1 MB and 4 MB, so the figure also shows the parser is linear. Target: 1 s/MB.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const L = require(join(root, "lib/dist/index.js"));

function scenarioText(bytes) {
  const head =
    "C big\narch x86-64\n{ flag = 0; code f[2] = old versions(old, new); }\nP0(int *flag)\n{\n";
  const stmt = "  WRITE_ONCE(flag, 1); // a statement\n";
  const tail =
    "}\nP1(int *flag)\n{\n  int r0;\n  while (!smp_load_acquire(flag)) cpu_relax();\n  r0 = f();\n}\nexists (1:r0=stale)\n";
  return head + stmt.repeat(Math.ceil((bytes - head.length - tail.length) / stmt.length)) + tail;
}

/** CPU and wall seconds per MB (CPU time: the machine may be shared; wall time shown too). */
function perMb(mb) {
  const text = scenarioText(mb * 2 ** 20);
  globalThis.gc?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  L.parseScenario(text, "bench.litmus");
  const c = process.cpuUsage(c0);
  const size = text.length / 2 ** 20;
  return { cpu: (c.user + c.system) / 1e6 / size, wall: (performance.now() - t0) / 1000 / size };
}

export default async function bench() {
  perMb(0.25); // warm-up
  const one = perMb(1);
  const four = perMb(4);
  return [
    {
      name: "scenario parse CPU time per MB (1 MB file)",
      value: one.cpu,
      unit: "s",
      target: { max: 1 },
      note: `wall ${one.wall.toFixed(2)} s/MB`,
    },
    {
      name: "scenario parse CPU time per MB (4 MB file)",
      value: four.cpu,
      unit: "s",
      target: { max: 1 },
      note: `wall ${four.wall.toFixed(2)} s/MB; ${(four.cpu / one.cpu).toFixed(1)}x the 1 MB figure (linear: about 1x)`,
    },
  ];
}
