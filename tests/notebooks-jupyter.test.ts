/**
 * One argument notebook through real Jupyter: the kernelspec installed with --prefix into a temp
 * dir, JUPYTER_PATH pointing there, and `jupyter nbconvert --execute` (nbclient) running
 * notebooks/00-tour.ipynb from the notebooks folder. Every cell must run without an error output,
 * the chart and table must arrive as rich MIME bundles, and the summary line must be published.
 */
import { join } from "path";
import { describe, expect, it } from "vitest";
import { JUPYTER, ROOT, executeNotebook, runCli, skipUnlessTool, tempDir } from "./kernel-support";

const jupyter = skipUnlessTool(
  JUPYTER,
  "notebooks/00-tour.ipynb under real Jupyter (nbconvert --execute)",
  "apt-get install jupyter-nbconvert python3-nbclient",
);

interface Out {
  output_type: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface Nb {
  cells: { cell_type: string; outputs?: Out[] }[];
}

describe.skipIf(jupyter.skip)(jupyter.title, () => {
  it("executes every cell through nbclient and publishes the summary", async () => {
    const prefix = tempDir("nb-jupyter");
    const inst = await runCli(["kernel", "install", "--prefix", prefix]);
    expect(inst.status).toBe(0);
    const nb = executeNotebook<Nb>(
      join(ROOT, "notebooks", "00-tour.ipynb"),
      { prefix, output: "tour", timeoutSec: 300 },
      /Traceback|CellExecutionError/,
    );
    const outs = nb.cells.filter((c) => c.cell_type === "code").flatMap((c) => c.outputs ?? []);
    expect(outs.filter((o) => o.output_type === "error")).toEqual([]);
    const mimes = new Set(outs.flatMap((o) => Object.keys(o.data ?? {})));
    expect(mimes).toContain("application/vnd.plotly.v1+json");
    expect(mimes).toContain("text/html");
    const summaries = outs
      .map((o) => o.data?.["application/vnd.execmem-lab.summary+json"])
      .filter((s): s is { argument: string; finding: string } => !!s);
    expect(summaries).toHaveLength(1);
    expect(summaries[0].argument).toBe("tour");
    expect(summaries[0].finding).toMatch(/stale/);
    expect((await runCli(["kernel", "uninstall", "--prefix", prefix])).status).toBe(0);
  }, 300_000);
});
