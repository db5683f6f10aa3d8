import { join } from "path";
import { describe, expect, it } from "vitest";
import { KernelClient, freePort } from "../kernel/runner/client";
import { parseLaunchArgs } from "../kernel/launch";
import { FIXTURES, ROOT, tempDir } from "./kernel-support";

describe("kernel client", () => {
  it("hands out distinct ports below the ephemeral range", async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
    for (const p of ports) expect(p >= 20000 && p < 32000).toBe(true);
  });

  it("retries with new ports when the kernel finds one of its ports taken", async () => {
    const marker = join(tempDir("client"), "first-start-done");
    const client = await KernelClient.start({
      cwd: ROOT,
      launcher: join(FIXTURES, "kernel", "busy-then-real-launcher.js"),
      env: { ...process.env, EXECMEM_LAB_TEST_MARKER: marker },
    });
    try {
      const r = await client.execute("6 * 7", { timeoutMs: 30_000 });
      expect(r.reply.status).toBe("ok");
      expect(r.messages.map((m) => m.content.text)).toEqual(["42\n"]);
    } finally {
      await client.shutdown();
    }
  });

  it("names a kernel that dies at start and keeps what it printed", async () => {
    await expect(
      KernelClient.start({ cwd: ROOT, launcher: join(FIXTURES, "kernel", "no-such-launcher.js") }),
    ).rejects.toThrow(/kernel process died \(exit code 1\):[\s\S]*Cannot find module/);
  });

  it("the launcher rejects arguments other than kernel --config-file FILE", () => {
    expect(parseLaunchArgs(["kernel", "--config-file", "c.json"])).toEqual({
      configFile: "c.json",
    });
    expect(() => parseLaunchArgs(["kernel"])).toThrow(
      'execmem-lab launcher: expected "kernel --config-file <connection file>", got "kernel"',
    );
  });
});
