/**
 * The argument notebooks (notebooks/*.ipynb) through the headless runner: every notebook must
 * pass (a failing cell, including a notebook's closing assertion cell, fails this test), publish
 * at least one summary line, and the sources in notebooks/src must match the committed .ipynb.
 */
import { spawnSync } from "child_process";
import { readFileSync, readdirSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./kernel-support";
import { sharedNotebookRun } from "./support/reproduce";

const NB_DIR = join(ROOT, "notebooks");
const notebooks = readdirSync(NB_DIR)
  .filter((f) => f.endsWith(".ipynb"))
  .sort();

interface Manifest {
  notebooks: {
    notebook: string;
    status: string;
    durationMs?: number;
    failures: { label: string; message: string }[];
    summaries: { argument: string; claim: string; finding: string }[];
  }[];
}

describe("notebooks", () => {
  it("are valid nbformat 4 with the execmem-lab kernelspec and a parameters cell", () => {
    expect(notebooks).toContain("00-tour.ipynb");
    for (const f of notebooks) {
      const nb = JSON.parse(readFileSync(join(NB_DIR, f), "utf8")) as {
        nbformat: number;
        nbformat_minor: number;
        metadata: { kernelspec: { name: string; language: string } };
        cells: { cell_type: string; id: string; metadata: { tags?: string[] } }[];
      };
      expect(nb.nbformat, f).toBe(4);
      expect(nb.nbformat_minor, f).toBeGreaterThanOrEqual(5);
      expect(nb.metadata.kernelspec, f).toMatchObject({
        name: "execmem-lab",
        language: "typescript",
      });
      const ids = nb.cells.map((c) => c.id);
      expect(new Set(ids).size, f).toBe(ids.length);
      expect(
        nb.cells.filter((c) => c.metadata.tags?.includes("parameters")),
        `${f}: one cell tagged parameters`,
      ).toHaveLength(1);
    }
  });

  it("are up to date with their sources (node notebooks/make.mjs)", () => {
    const r = spawnSync(process.execPath, [join(NB_DIR, "make.mjs"), "--check"], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("all run through the runner: every cell passes and each publishes a summary", async () => {
    const r = await sharedNotebookRun();
    const out = r.out;
    const m = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Manifest;
    const failed = m.notebooks
      .filter((n) => n.status !== "passed")
      .map((n) => `${n.notebook}: ${n.failures.map((x) => `${x.label}: ${x.message}`).join("; ")}`);
    expect(failed).toEqual([]);
    expect(r.status).toBe(0);
    expect(m.notebooks.map((n) => n.notebook.replace(/^notebooks\//, "")).sort()).toEqual(
      notebooks,
    );
    for (const n of m.notebooks) expect(n.summaries.length, n.notebook).toBeGreaterThan(0);
    const index = readFileSync(join(out, "index.html"), "utf8");
    for (const n of m.notebooks) for (const s of n.summaries) expect(index).toContain(s.argument);
  }, 400_000);
});
