import { join } from "path";
import { describe, expect, it } from "vitest";
import { KernelClient } from "../kernel/runner/client";
import { buildKernelSnapshot, kernelSnapshot } from "../kernel/snapshot";
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

describe("kernel started from its snapshot", () => {
  it("runs cells, reports type errors and keeps state as a kernel started without it", async () => {
    if (!kernelSnapshot()) expect(buildKernelSnapshot()).toHaveProperty("blob");
    const withSnapshot = await run({ ...process.env, EXECMEM_LAB_KERNEL_SNAPSHOT: "1" });
    const without = await run(
      { ...process.env, EXECMEM_LAB_KERNEL_SNAPSHOT: "0" },
      join(ROOT, "kernel", "dist", "launch.js"),
    );
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
