/**
 * The kernel through real Jupyter: the kernelspec installed with --prefix into a temp dir,
 * JUPYTER_PATH pointing there, and Debian's `jupyter nbconvert --execute` (nbclient) running a
 * notebook on it.
 */
import { spawnSync } from "child_process";
import { existsSync, readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { LAUNCHER, kernelJson } from "../kernel/kernelspec";
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
