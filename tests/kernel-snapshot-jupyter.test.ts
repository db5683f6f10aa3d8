import { spawnSync } from "child_process";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { KernelClient, kernelNodeArgs } from "../kernel/runner/client";
import { buildKernelSnapshot, kernelSnapshot, SNAPSHOT_GLIBC_TUNABLES } from "../kernel/snapshot";
import { ROOT } from "./kernel-support";

const CELLS = [
  "process.execArgv.includes('--snapshot-blob')",
  'import { architectures } from "execmem-lab";\nObject.keys(architectures).length > 0',
  'import { join } from "path";\njoin("a", "b")',
  "architectures === undefined",
  // Last: tslab aborts the requests that arrive in the 200 ms after an error.
  'const n: number = "s";',
];

/** What each cell printed or raised. */
async function run(env: NodeJS.ProcessEnv, launcher?: string): Promise<string[]> {
  const kernel = await KernelClient.start({ cwd: ROOT, env, launcher });
  try {
    const out: string[] = [];
    for (const code of CELLS) {
      const r = await kernel.execute(code, { timeoutMs: 60_000 });
      out.push(
        r.reply.status === "ok"
          ? r.messages.map((m) => String(m.content.text ?? "")).join("")
          : `${String(r.reply.ename)}: ${String(r.reply.evalue)}`,
      );
    }
    return out;
  } finally {
    await kernel.shutdown();
  }
}

const BUILT = join(ROOT, "kernel", "dist", "launch.js");

describe("kernel started from its snapshot", () => {
  it("starts from it with the built launcher, named or not; not with another or a heap limit", () => {
    if (!kernelSnapshot()) expect(buildKernelSnapshot()).toHaveProperty("blob");
    const env = { ...process.env, EXECMEM_LAB_KERNEL_SNAPSHOT: "1" };
    const blob = kernelSnapshot(env);
    for (const launcher of [undefined, BUILT, join(ROOT, "kernel", "dist", ".", "launch.js")]) {
      const args = kernelNodeArgs({ launcher }, env);
      expect(args.slice(-2), String(launcher)).toEqual(["--snapshot-blob", blob]);
    }
    const other = join(ROOT, "tests", "fixtures", "kernel", "failed-starts-launcher.js");
    expect(kernelNodeArgs({ launcher: other }, env)).toEqual([other]);
    expect(kernelNodeArgs({ launcher: BUILT, heapMb: 192 }, env)).toEqual([
      "--max-old-space-size=192",
      BUILT,
    ]);
    expect(kernelNodeArgs({}, { ...env, EXECMEM_LAB_KERNEL_SNAPSHOT: "0" })).toHaveLength(1);
  });

  it("starts with glibc's malloc on huge pages, which spares most page faults of reading the snapshot", async () => {
    if (!kernelSnapshot()) expect(buildKernelSnapshot()).toHaveProperty("blob");
    const faults = async (env: NodeJS.ProcessEnv) => {
      const kernel = await KernelClient.start({ cwd: ROOT, env });
      try {
        const r = await kernel.execute(
          "console.log(JSON.stringify([process.env.GLIBC_TUNABLES, process.resourceUsage().minorPageFault]))",
          { timeoutMs: 60_000 },
        );
        return JSON.parse(r.messages.map((m) => String(m.content.text ?? "")).join("")) as [
          string,
          number,
        ];
      } finally {
        await kernel.shutdown();
      }
    };
    const env: NodeJS.ProcessEnv = { ...process.env, EXECMEM_LAB_KERNEL_SNAPSHOT: "1" };
    delete env.GLIBC_TUNABLES;
    const [ours, few] = await faults(env);
    expect(ours).toBe(SNAPSHOT_GLIBC_TUNABLES);
    // A user's own tunables come after, and win.
    const [theirs, many] = await faults({ ...env, GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" });
    expect(theirs).toBe(`${SNAPSHOT_GLIBC_TUNABLES}:glibc.malloc.hugetlb=0`);
    // The blob (55 MB) is read into a buffer and copied: 28,000 faults of 4 KiB, or a few dozen,
    // where the system gives huge pages now: as it does to a process that fills a 64 MB buffer.
    const buffer = (tunables: string) =>
      Number(
        spawnSync(
          process.execPath,
          ["-e", "Buffer.alloc(64 << 20, 1); console.log(process.resourceUsage().minorPageFault)"],
          { env: { ...env, GLIBC_TUNABLES: tunables }, encoding: "utf8" },
        ).stdout,
      );
    const saved = buffer("glibc.malloc.hugetlb=0") - buffer(SNAPSHOT_GLIBC_TUNABLES);
    if (saved > 10_000) expect(many - few).toBeGreaterThan(20_000);
    else console.log(`huge pages not given now (a 64 MB buffer saved ${saved} faults)`);
  }, 120_000);

  it("runs cells, reports type errors and keeps state as a kernel started without it", async () => {
    if (!kernelSnapshot()) expect(buildKernelSnapshot()).toHaveProperty("blob");
    // Naming the built launcher (as the tests that run the kernel's sources do) is the default.
    const withSnapshot = await run({ ...process.env, EXECMEM_LAB_KERNEL_SNAPSHOT: "1" }, BUILT);
    const without = await run({ ...process.env, EXECMEM_LAB_KERNEL_SNAPSHOT: "0" }, BUILT);
    expect(withSnapshot[0]).toBe("true\n");
    expect(without[0]).toBe("false\n");
    expect(withSnapshot.slice(1)).toEqual(without.slice(1));
    expect(withSnapshot.slice(1)).toEqual([
      "true\n",
      "a/b\n",
      "false\n",
      "TypeScriptError: 1:7 - Type 'string' is not assignable to type 'number'.",
    ]);
  }, 180_000);
});
