import { spawn } from "child_process";
import { readFileSync, writeFileSync } from "fs";
import { createServer, type AddressInfo } from "net";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { KernelClient, freePort, kernelNodeArgs, newConnection } from "../kernel/runner/client";
import { parseLaunchArgs } from "../kernel/launch";
import { FIXTURES, ROOT, tempDir } from "./kernel-support";

describe("kernel client", () => {
  it("hands out distinct ports below the ephemeral range", async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
    for (const p of ports) expect(p >= 20000 && p < 32000).toBe(true);
  });

  it("starts again, with new ports, a kernel that found a port taken or whose iopub never arrives", async () => {
    const marker = join(tempDir("client"), "starts");
    const t0 = Date.now();
    const client = await KernelClient.start({
      cwd: ROOT,
      launcher: join(FIXTURES, "kernel", "failed-starts-launcher.js"),
      env: {
        ...process.env,
        EXECMEM_LAB_TEST_MARKER: marker,
        // A start that never binds its ports is given up the same way (the next test).
        EXECMEM_LAB_TEST_STARTS: "busy,mute,real",
      },
      // The real start is a kernel without the snapshot (another launcher): binding takes a second
      // or more on a loaded machine.
      silentMs: 4000,
    });
    // The third start is the real kernel; the mute one (it answers, but what it publishes goes
    // elsewhere) was given up after a few seconds.
    expect(readFileSync(marker, "utf8")).toBe("3");
    expect(Date.now() - t0).toBeLessThan(30_000);
    try {
      const r = await client.execute("6 * 7", { timeoutMs: 30_000 });
      expect(r.reply.status).toBe("ok");
      expect(r.messages.map((m) => m.content.text)).toEqual(["42\n"]);
    } finally {
      await client.shutdown();
    }
  });

  it.concurrent.each([
    ["never binds its ports", "stuck", /did not bind its ports within 0.5 s/],
    [
      "takes connections but never answers",
      "deaf",
      /bound its ports but did not answer within 0.5 s/,
    ],
  ])("gives up on a kernel that %s after three starts, naming why", async (_, starts, why) => {
    const marker = join(tempDir("client"), "starts");
    await expect(
      KernelClient.start({
        cwd: ROOT,
        launcher: join(FIXTURES, "kernel", "failed-starts-launcher.js"),
        env: { ...process.env, EXECMEM_LAB_TEST_MARKER: marker, EXECMEM_LAB_TEST_STARTS: starts },
        silentMs: 500,
      }),
    ).rejects.toThrow(why);
    expect(readFileSync(marker, "utf8")).toBe("3");
  });

  it("a kernel that finds one of its ports taken says so and is gone at once", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    try {
      const conn = join(tempDir("client"), "connection.json");
      const iopub_port = (taken.address() as AddressInfo).port;
      writeFileSync(conn, JSON.stringify(await newConnection({ iopub_port })));
      const child = spawn(
        process.execPath,
        [...kernelNodeArgs({}, process.env), "kernel", "--config-file", conn],
        { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const gone = await new Promise<boolean>((res) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          res(false);
        }, 20_000);
        child.on("close", () => {
          clearTimeout(timer);
          res(true);
        });
      });
      expect(gone, stderr).toBe(true);
      expect(stderr).toContain("execmem-lab kernel failed to start");
      expect(stderr).toContain("EADDRINUSE");
    } finally {
      taken.close();
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
