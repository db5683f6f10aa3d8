import { describe, expect, it } from "vitest";
import { rewriteParamPairs } from "../kernel/cli";
import {
  DEFAULT_SANITIZERS,
  compareOutputs,
  metadataSanitizers,
  sanitize,
} from "../kernel/runner/checks";
import {
  checkNotebook,
  serializeNotebook,
  splitLines,
  type Notebook,
  type Output,
} from "../kernel/runner/notebook";
import { injectParameters, parseParam } from "../kernel/runner/params";

const out = (text: string): Output => ({ output_type: "stream", name: "stdout", text });

describe("output checks", () => {
  it("sanitises timestamps, durations, uuids, addresses, ANSI colours and trailing spaces", () => {
    const s = sanitize(
      "\x1b[31mt=2024-05-01T10:20:30.123Z\x1b[0m took 12.5 ms, 3.2 s id=123e4567-e89b-12d3-a456-426614174000 at 0xffff8000deadbeef  ",
      DEFAULT_SANITIZERS,
    );
    expect(s).toBe("t=<TIMESTAMP> took <DURATION>, <DURATION> id=<UUID> at <ADDRESS>");
  });

  it("does not sanitise meaningful numbers", () => {
    expect(sanitize("42 outcomes, 3 stale", DEFAULT_SANITIZERS)).toBe("42 outcomes, 3 stale");
    expect(compareOutputs([out("3 stale\n")], [out("4 stale\n")], DEFAULT_SANITIZERS)).toMatch(
      /expected "3 stale", got "4 stale"/,
    );
  });

  it("merges consecutive stream chunks and reports missing or extra outputs", () => {
    expect(
      compareOutputs([out("a\nb\n")], [out("a\n"), out("b\n")], DEFAULT_SANITIZERS),
    ).toBeNull();
    expect(compareOutputs([out("a\n")], [], DEFAULT_SANITIZERS)).toBe(
      'missing output 1 (stream stdout): expected "a\\n"',
    );
    expect(compareOutputs([], [out("x")], DEFAULT_SANITIZERS)).toBe(
      'unexpected output 1 (stream stdout): "x"',
    );
  });

  it("compares display data by MIME types, text/plain and JSON, not by HTML", () => {
    const d = (html: string, plain: string, json: unknown): Output => ({
      output_type: "display_data",
      data: { "text/html": html, "text/plain": plain, "application/vnd.x+json": json },
      metadata: {},
    });
    expect(
      compareOutputs(
        [d("<a id=1>", "p", { b: 1, a: 2 })],
        [d("<a id=2>", "p", { a: 2, b: 1 })],
        DEFAULT_SANITIZERS,
      ),
    ).toBeNull();
    expect(
      compareOutputs([d("", "p", { a: 1 })], [d("", "p", { a: 2 })], DEFAULT_SANITIZERS),
    ).toMatch(/differs/);
  });

  it("reads extra sanitisers from metadata and names where a bad one is", () => {
    const [s] = metadataSanitizers(
      { "execmem-lab": { sanitize: [{ regex: "seed=\\d+", replace: "seed=N" }] } },
      "nb",
    );
    expect(sanitize("seed=99", [s])).toBe("seed=N");
    expect(() =>
      metadataSanitizers({ "execmem-lab": { sanitize: [{ regex: "(" }] } }, "x.ipynb, cell 2"),
    ).toThrow(
      /x\.ipynb, cell 2: metadata "execmem-lab"\.sanitize\[0\]\.regex is not a valid regular expression/,
    );
    expect(() => metadataSanitizers({ "execmem-lab": { sanitize: "no" } }, "x.ipynb")).toThrow(
      /x\.ipynb: .*must be a list/,
    );
  });
});

describe("parameters", () => {
  it("parses values as JSON scalars or plain strings", () => {
    expect(parseParam("n", "5")).toEqual(["n", 5]);
    expect(parseParam("f", "-1.5e3")).toEqual(["f", -1500]);
    expect(parseParam("b", "true")).toEqual(["b", true]);
    expect(parseParam("s", '"5"')).toEqual(["s", "5"]);
    expect(parseParam("s", "x86-64")).toEqual(["s", "x86-64"]);
    expect(() => parseParam("1bad", "1")).toThrow(/"1bad" is not a valid identifier/);
  });

  it("injects after the parameters cell only names that cell declares", () => {
    const nb = checkNotebook("t.ipynb", {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        { cell_type: "markdown", source: "x", metadata: {} },
        {
          cell_type: "code",
          source: "let arch = 'x86-64';\nconst cpus = 2;",
          metadata: { tags: ["parameters"] },
          outputs: [],
          execution_count: null,
        },
        { cell_type: "code", source: "arch", metadata: {}, outputs: [], execution_count: null },
      ],
    });
    const r = injectParameters(nb, { arch: "arm64", cpus: 4, other: 1 });
    expect(r.unknown).toEqual(["other"]);
    expect(r.notebook.cells.map((c) => c.cell_type)).toEqual(["markdown", "code", "code", "code"]);
    expect(r.notebook.cells[2].source).toBe(
      '// Parameters injected by execmem-lab run -p\nlet arch = "arm64";\nlet cpus = 4;',
    );
    expect(r.notebook.cells[2].metadata.tags).toEqual(["injected-parameters"]);
    expect(nb.cells).toHaveLength(3); // the source notebook is untouched
  });

  it("rewrites papermill-style -p NAME VALUE pairs for commander", () => {
    expect(
      rewriteParamPairs(["run", "-p", "n", "5", "a.ipynb", "-p", "s=x", "--parameter", "k", "v w"]),
    ).toEqual(["run", "-p", "n=5", "a.ipynb", "-p", "s=x", "--parameter", "k=v w"]);
  });
});

describe("notebook files", () => {
  it("rejects what is not nbformat 4, naming the file and the cell", () => {
    expect(() => checkNotebook("a.ipynb", [])).toThrow("a.ipynb: not an nbformat notebook");
    expect(() => checkNotebook("a.ipynb", { nbformat: 3, cells: [] })).toThrow(
      "a.ipynb: nbformat is 3; only nbformat 4 is supported",
    );
    expect(() =>
      checkNotebook("a.ipynb", { nbformat: 4, cells: [{ cell_type: "code", source: 5 }] }),
    ).toThrow('a.ipynb: cell 1: "source" must be a string or a list of strings');
  });

  it("serialises as Jupyter does, without transient display ids", () => {
    const nb: Notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        {
          cell_type: "code",
          source: "a\nb",
          metadata: {},
          execution_count: 1,
          outputs: [
            {
              output_type: "display_data",
              data: { "text/plain": "x\ny", "application/json": { a: 1 } },
              metadata: {},
              transient: { display_id: "d" },
            },
          ],
        },
      ],
    };
    const back = JSON.parse(serializeNotebook(nb)) as {
      cells: { source: string[]; outputs: Record<string, unknown>[] }[];
    };
    expect(back.cells[0].source).toEqual(["a\n", "b"]);
    expect(back.cells[0].outputs[0]).toEqual({
      output_type: "display_data",
      data: { "text/plain": ["x\n", "y"], "application/json": { a: 1 } },
      metadata: {},
    });
    expect(splitLines("")).toEqual([]);
  });
});
