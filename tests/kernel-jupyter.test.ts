/**
 * The kernel through real Jupyter: the kernelspec installed with --prefix into a temp dir,
 * JUPYTER_PATH pointing there, and Debian's `jupyter nbconvert --execute` (nbclient) running a
 * notebook on it.
 */
import { spawn, spawnSync } from "child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { BOOTSTRAP, LAUNCHER, kernelJson } from "../kernel/kernelspec";
import { listening, newConnection } from "../kernel/runner/client";
import {
  buildKernelSnapshot,
  kernelSnapshot,
  SNAPSHOT_GLIBC_TUNABLES,
  SNAPSHOT_V8_FLAGS,
} from "../kernel/snapshot";
import {
  FIXTURES,
  JUPYTER,
  ROOT,
  executeNotebook,
  jupyterEnv,
  nbconvertExecute,
  runCli,
  skipUnlessTool,
  tempDir,
} from "./kernel-support";

const jupyter = skipUnlessTool(
  JUPYTER,
  "kernel under real Jupyter (nbconvert --execute)",
  "apt-get install jupyter-nbconvert python3-nbclient",
);

interface Out {
  output_type: string;
  data?: Record<string, unknown>;
  text?: string[];
  name?: string;
}
interface Nb {
  cells: { outputs: Out[] }[];
  metadata: { kernelspec?: { name: string } };
}

describe("kernel install without Jupyter", () => {
  it("says Jupyter is missing and how to install it, and exits non-zero", async () => {
    const r = await runCli(["kernel", "install", "--prefix", tempDir("nojupyter")], {
      env: { ...process.env, PATH: tempDir("emptypath") },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'kernel install: Jupyter was not found on PATH (no "jupyter" executable)',
    );
    expect(r.stderr).toContain("apt-get install jupyter-client");
  });
});

describe("a kernelspec whose checkout moved", () => {
  it("says to re-run kernel install instead of printing a stack trace", () => {
    const gone = join(tempDir("moved"), "kernel", "dist", "launch.js");
    const argv = kernelJson().argv;
    const launcher = argv.findIndex((a) => /launch\.js$/.test(a));
    expect(launcher).toBeGreaterThan(0);
    argv[launcher] = gone;
    const conn = join(tempDir("moved-conn"), "connection.json");
    const r = spawnSync(
      argv[0],
      argv.slice(1).map((a) => a.replace("{connection_file}", conn)),
      { encoding: "utf8" },
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `execmem-lab kernel: its launcher ${gone} no longer exists (the checkout moved or was removed); ` +
        `run "npx execmem-lab kernel install" again from the checkout`,
    );
  });
});

describe("the kernelspec's shell step", () => {
  const shell = (argv: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env });
  /** kernelJson()'s argv with `node` and the launcher replaced, and the connection file. */
  const argvWith = (node: string, launcher: string) =>
    kernelJson("linux").argv.map((a) =>
      a === process.execPath
        ? node
        : a === LAUNCHER
          ? launcher
          : a === "{connection_file}"
            ? "c.json"
            : a,
    );

  it.skipIf(process.platform === "win32")(
    "starts from the snapshot named by the launch file for this node and flags, with the tunables, else as a script",
    () => {
      // A node that says its version and prints what it was started with.
      const dir = tempDir("shell-step");
      const node = join(dir, "node");
      writeFileSync(
        node,
        `#!/bin/sh\nif [ "$1" = --version ]; then echo v0.test; exit 0; fi\nprintf '%s\\n' "[$*] [$GLIBC_TUNABLES]"\n`,
      );
      chmodSync(node, 0o755);
      const launcher = join(dir, "dist", "launch.js");
      mkdirSync(join(dir, "dist", "snapshot"), { recursive: true });
      const blob = join(dir, "dist", "snapshot", "kernel.blob");
      writeFileSync(blob, "");
      const flags = SNAPSHOT_V8_FLAGS.join(" ");
      const launch = join(dir, "dist", "snapshot", "kernel-v0.test.launch");
      const env = { ...process.env };
      delete env.GLIBC_TUNABLES;
      delete env.EXECMEM_LAB_KERNEL_SNAPSHOT;
      const run = (e: NodeJS.ProcessEnv = env) => shell(argvWith(node, launcher), e).stdout.trim();
      const script = `[-e ${BOOTSTRAP} ${launcher} kernel --config-file c.json] []`;
      expect(run()).toBe(script);
      writeFileSync(launch, `${node} ${flags}\n${blob}\n`);
      expect(run()).toBe(
        `[${flags} --snapshot-blob ${blob} kernel --config-file c.json] [${SNAPSHOT_GLIBC_TUNABLES}]`,
      );
      expect(run({ ...env, GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" })).toContain(
        `[${SNAPSHOT_GLIBC_TUNABLES}:glibc.malloc.hugetlb=0]`,
      );
      expect(run({ ...env, EXECMEM_LAB_KERNEL_SNAPSHOT: "0" })).toBe(script);
      // Built with other flags, or for another node: as a script.
      writeFileSync(launch, `${node} --other\n${blob}\n`);
      expect(run()).toBe(script);
      writeFileSync(launch, `/usr/bin/node ${flags}\n${blob}\n`);
      expect(run()).toBe(script);
      // The blob is gone.
      writeFileSync(launch, `${node} ${flags}\n${blob}.gone\n`);
      expect(run()).toBe(script);
    },
  );

  it.skipIf(process.platform !== "linux")(
    "as installed, starts a kernel from this checkout's snapshot, which checks it was built from these files",
    async () => {
      if (!kernelSnapshot()) expect(buildKernelSnapshot()).toHaveProperty("blob");
      const argv = argvWith(process.execPath, join(ROOT, "kernel", "dist", "launch.js"));
      const env = { ...process.env };
      delete env.GLIBC_TUNABLES;
      delete env.EXECMEM_LAB_KERNEL_SNAPSHOT;
      const unused = "its startup snapshot was built from other files than these";
      /** Start it, wait until it has bound its ports, and read what it is. */
      const startAsInstalled = async () => {
        const conn = join(tempDir("shell-step"), "connection.json");
        const connection = await newConnection();
        writeFileSync(conn, JSON.stringify(connection));
        const args = argv.slice(1).map((a) => (a === "c.json" ? conn : a));
        const child = spawn(argv[0], args, { env, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        try {
          for (let i = 0; i < 200 && !(await listening(connection.shell_port)); i++) {
            await new Promise((r) => setTimeout(r, 50));
          }
          // The shell execs the kernel: the same process.
          const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0");
          const environ = readFileSync(`/proc/${child.pid}/environ`, "utf8").split("\0");
          return { cmdline, environ, stderr };
        } finally {
          child.kill("SIGKILL");
        }
      };
      const first = await startAsInstalled();
      expect(first.cmdline).toContain("--snapshot-blob");
      expect(first.cmdline[first.cmdline.indexOf("--snapshot-blob") + 1]).toBe(kernelSnapshot());
      expect(first.environ).toContain(`GLIBC_TUNABLES=${SNAPSHOT_GLIBC_TUNABLES}`);
      expect(first.stderr).not.toContain(unused);
      // The entry changed since (a build that did not make the snapshot again): the kernel says
      // so and loads everything from disk.
      const entry = join(ROOT, "kernel", "dist", "snapshot-entry.js");
      const text = readFileSync(entry, "utf8");
      const { atime, mtime } = statSync(entry);
      writeFileSync(entry, `${text}// changed\n`);
      try {
        const second = await startAsInstalled();
        expect(second.cmdline).toContain("--snapshot-blob");
        expect(second.stderr).toContain(unused);
      } finally {
        writeFileSync(entry, text);
        utimesSync(entry, atime, mtime);
      }
    },
  );
});

describe.skipIf(jupyter.skip)(jupyter.title, () => {
  it("installs the kernelspec with --prefix, runs a notebook through nbconvert, and uninstalls", async () => {
    const prefix = tempDir("jupyter");
    const inst = await runCli(["kernel", "install", "--prefix", prefix]);
    expect(inst.stderr).toBe("");
    expect(inst.status).toBe(0);
    const specDir = join(prefix, "share", "jupyter", "kernels", "execmem-lab");
    const spec = JSON.parse(readFileSync(join(specDir, "kernel.json"), "utf8")) as {
      argv: string[];
      display_name: string;
      language: string;
    };
    expect(spec.display_name).toBe("execmem-lab (TypeScript)");
    expect(spec.language).toBe("typescript");
    expect(inst.stdout).toContain(
      `Jupyter looks there only with JUPYTER_PATH=${join(prefix, "share", "jupyter")}`,
    );
    // The installed argv is kernelJson()'s, with the built launcher (this test runs the source).
    const built = join(ROOT, "kernel", "dist", "launch.js");
    expect(spec.argv).toContain(built);
    expect(spec.argv).toEqual(kernelJson("linux").argv.map((a) => (a === LAUNCHER ? built : a)));

    const list = spawnSync("jupyter", ["kernelspec", "list", "--json"], {
      env: jupyterEnv(prefix),
      encoding: "utf8",
    });
    expect(Object.keys((JSON.parse(list.stdout) as { kernelspecs: object }).kernelspecs)).toContain(
      "execmem-lab",
    );

    const nb = executeNotebook<Nb>(
      join(FIXTURES, "jupyter", "multi-mime.ipynb"),
      { prefix, output: "executed", timeoutSec: 120 },
      /Traceback|Error/,
    );

    // One display_data output carrying several MIME types at once.
    const [chart] = nb.cells[0].outputs;
    expect(nb.cells[0].outputs).toHaveLength(1);
    expect(chart.output_type).toBe("display_data");
    expect(Object.keys(chart.data ?? {}).sort()).toEqual([
      "application/vnd.plotly.v1+json",
      "text/html",
      "text/plain",
    ]);
    expect(
      (chart.data?.["application/vnd.plotly.v1+json"] as { data: unknown[] }).data,
    ).toHaveLength(2);
    expect(chart.data?.["text/plain"]).toEqual(['Plotly figure "fixture": 2 traces']);

    // A last expression implementing Symbol.for("Jupyter.display") renders itself.
    expect(nb.cells[1].outputs).toEqual([
      expect.objectContaining({
        output_type: "execute_result",
        data: { "text/markdown": ["**self-rendered**"], "text/plain": ["self-rendered"] },
      }),
    ]);

    // The progress bar was updated in place (update_display_data): one output, final state.
    const progressOuts = nb.cells[2].outputs.filter((o) => o.output_type === "display_data");
    expect(progressOuts).toHaveLength(1);
    expect(progressOuts[0].data?.["text/plain"]).toEqual([
      "steps [" + "#".repeat(30) + "] 3/3 100% ok",
    ]);
    expect(nb.cells[2].outputs.find((o) => o.output_type === "stream")?.text).toEqual([
      "printed\n",
    ]);

    const un = await runCli(["kernel", "uninstall", "--prefix", prefix]);
    expect(un.status).toBe(0);
    expect(existsSync(specDir)).toBe(false);
  });

  it("a throwing cell is an error output that stops nbconvert", async () => {
    const prefix = tempDir("jupyter");
    expect((await runCli(["kernel", "install", "--prefix", prefix])).status).toBe(0);
    const conv = nbconvertExecute(join(FIXTURES, "runner", "throws.ipynb"), {
      prefix,
      output: "throws",
      timeoutSec: 120,
    });
    expect(conv.status).not.toBe(0);
    expect(conv.stderr).toContain("RangeError: boom from the fixture");
  });
});
