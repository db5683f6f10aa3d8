import { join } from "path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DISPLAY_HOOK,
  JUPYTER_DISPLAY,
  PLOTLY_MIME,
  QUIET,
  SUMMARY_MIME,
  display,
  inKernel,
  plotlyBundle,
  progress,
  summary,
  summaryBundle,
  toBundle,
  type MimeBundle,
} from "../lib";
import {
  createDisplayHook,
  createExecutorConsole,
  selfBundle,
  toCellError,
  type DisplayData,
} from "../kernel/display";
import { plotlyScriptCandidates, withPlotlyFallback } from "../kernel/plotly";
import { ROOT } from "./kernel-support";

type Sent = { data: DisplayData; update: boolean };

function installRecordingHook(): Sent[] {
  const sent: Sent[] = [];
  (globalThis as Record<symbol, unknown>)[DISPLAY_HOOK] = createDisplayHook(
    () => (data, update) => sent.push({ data, update }),
  );
  return sent;
}

afterEach(() => {
  delete (globalThis as Record<symbol, unknown>)[DISPLAY_HOOK];
  vi.restoreAllMocks();
});

describe("lib/display facade", () => {
  it("emits one output with the whole MIME bundle of a self-displaying object", () => {
    const sent = installRecordingHook();
    expect(inKernel()).toBe(true);
    const obj = {
      [JUPYTER_DISPLAY]: (): MimeBundle => ({
        "text/html": "<b>hi</b>",
        "text/plain": "hi",
        "application/json": { a: 1 },
      }),
    };
    const h = display(obj);
    expect(sent).toHaveLength(1);
    expect(sent[0].update).toBe(false);
    expect(sent[0].data.data).toEqual({
      "text/html": "<b>hi</b>",
      "text/plain": "hi",
      "application/json": { a: 1 },
    });
    expect(sent[0].data.transient?.display_id).toBe(h.id);
    expect(h.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it("updates in place: update() sends update_display_data with the same display_id", () => {
    const sent = installRecordingHook();
    const h = display("first");
    h.update("second");
    expect(sent.map((s) => s.update)).toEqual([false, true]);
    expect(sent[1].data.transient?.display_id).toBe(sent[0].data.transient?.display_id);
    expect(sent[1].data.data).toEqual({ "text/plain": "second" });
  });

  it("falls back to console text outside the kernel", () => {
    expect(inKernel()).toBe(false);
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const h = display({
      [JUPYTER_DISPLAY]: () => ({ "text/html": "<i>x</i>", "text/plain": "plain x" }),
    });
    h.update("y");
    expect(log.mock.calls.map((c) => c[0])).toEqual(["plain x", "y"]);
    expect(h.id).toBe("");
  });

  it("adds text/plain when a bundle lacks it and rejects bundles that are not objects", () => {
    expect(toBundle({ [JUPYTER_DISPLAY]: () => ({ "text/html": "<p>" }) })["text/plain"]).toBe(
      "<text/html>",
    );
    expect(() => toBundle({ [JUPYTER_DISPLAY]: () => "nope" })).toThrow(
      /returned 'nope'; expected an object/,
    );
    expect(() => toBundle({ [JUPYTER_DISPLAY]: () => ({ notamime: 1 }) })).toThrow(
      /"notamime", which is not a MIME type/,
    );
    expect(toBundle(42)).toEqual({ "text/plain": "42" });
  });

  it("plotlyBundle carries the figure and text; the kernel adds an offline HTML fallback", () => {
    const b = plotlyBundle({
      data: [{ y: [1, 2] }, { y: [3] }],
      layout: { title: { text: "T</script>" } },
    });
    expect(b[PLOTLY_MIME]).toEqual({
      data: [{ y: [1, 2] }, { y: [3] }],
      layout: { title: { text: "T</script>" } },
      config: {},
    });
    expect(b["text/plain"]).toBe('Plotly figure "T</script>": 2 traces');
    expect(b["text/html"]).toBeUndefined();
    const sent = installRecordingHook();
    display({ [JUPYTER_DISPLAY]: () => b });
    const shown = sent[0].data.data;
    expect(Object.keys(shown)).toEqual([PLOTLY_MIME, "text/html", "text/plain"]);
    const html = String(shown["text/html"]);
    expect(html).toContain('class="execmem-lab-plotly"');
    expect(html).not.toMatch(/https?:\/\//); // never a CDN
    expect(html.match(/<\/script>/g)).toHaveLength(1); // the title cannot close the script early
    expect(selfBundle({ [JUPYTER_DISPLAY]: () => b })?.["text/html"]).toContain(
      "execmem-lab-plotly",
    );
    // A bundle with its own HTML, or without a figure, is left as it is.
    expect(withPlotlyFallback({ [PLOTLY_MIME]: b[PLOTLY_MIME], "text/html": "<p>" })).toEqual({
      [PLOTLY_MIME]: b[PLOTLY_MIME],
      "text/html": "<p>",
    });
    expect(withPlotlyFallback({ "text/plain": "x" })).toEqual({ "text/plain": "x" });
    expect(() => plotlyBundle({ data: "x" } as never)).toThrow(
      /figure.data must be an array of traces/,
    );
  });

  it("the HTML fallback loads plotly.js beside the notebook and at the server root", () => {
    const cwd = join(ROOT, "notebooks");
    expect(plotlyScriptCandidates({ JPY_SESSION_NAME: "notebooks/x.ipynb" }, cwd)).toEqual([
      "node_modules/plotly.js-dist-min/plotly.min.js",
    ]);
    // A server started above the checkout: the path beside the notebook comes first.
    expect(plotlyScriptCandidates({ JPY_SESSION_NAME: "lab/notebooks/x.ipynb" }, cwd)).toEqual([
      "lab/node_modules/plotly.js-dist-min/plotly.min.js",
      "node_modules/plotly.js-dist-min/plotly.min.js",
    ]);
    expect(plotlyScriptCandidates({ JPY_SESSION_NAME: "/abs/x.ipynb" }, cwd)).toEqual([
      "node_modules/plotly.js-dist-min/plotly.min.js",
    ]);
  });

  it("progress updates one display in place and validates its input", () => {
    const sent = installRecordingHook();
    const p = progress("exploring", 4);
    p.tick();
    p.finish("done");
    expect(sent[0].update).toBe(false);
    expect(sent.at(-1)?.update).toBe(true);
    expect(new Set(sent.map((s) => s.data.transient?.display_id)).size).toBe(1);
    expect(sent.at(-1)?.data.data["text/plain"]).toBe(
      "exploring [" + "#".repeat(30) + "] 4/4 100% done",
    );
    expect(p.done).toBe(4);
    expect(() => progress("x", -1)).toThrow(
      /progress\("x", total\): total must be a finite number >= 0, got -1/,
    );
    expect(() => p.update(Number.NaN)).toThrow(/update\(done\): done must be a finite number >= 0/);
  });

  it("summary publishes the summary MIME type and checks its fields", () => {
    const sent = installRecordingHook();
    summary({ argument: "A2", claim: "c", finding: "f" });
    expect(sent[0].data.data[SUMMARY_MIME]).toEqual({ argument: "A2", claim: "c", finding: "f" });
    expect(() => summaryBundle({ argument: "A2", claim: "", finding: "f" })).toThrow(
      /s\.claim must be a non-empty string/,
    );
  });

  it("handles and progress bars are quiet as a cell's last expression", () => {
    installRecordingHook();
    expect((display("x") as unknown as Record<symbol, unknown>)[QUIET]).toBe(true);
    expect((progress("p", 1) as unknown as Record<symbol, unknown>)[QUIET]).toBe(true);
  });
});

describe("kernel/display: last expression and errors", () => {
  it("a self-displaying last expression becomes the cell result; a quiet one prints nothing", () => {
    const state = {
      writeStream: () => {},
      writeDisplayData: () => {},
      printedErrors: [] as unknown[][],
      result: null as MimeBundle | null,
    };
    const con = createExecutorConsole(() => state);
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    con.log({ [JUPYTER_DISPLAY]: () => ({ "text/markdown": "**m**", "text/plain": "m" }) });
    expect(state.result).toEqual({ "text/markdown": "**m**", "text/plain": "m" });
    con.log(Object.defineProperty({}, QUIET, { value: true }));
    con.log(5);
    expect(log.mock.calls).toEqual([[5]]);
    expect(selfBundle(7)).toBeNull();
  });

  it("turns tslab's printed diagnostics and thrown errors into Jupyter errors", () => {
    const diag = toCellError([
      ["%s%d:%d - %s", "", 1, 7, "Type 'string' is not assignable to type 'number'."],
    ]);
    expect(diag).toEqual({
      ename: "TypeScriptError",
      evalue: "1:7 - Type 'string' is not assignable to type 'number'.",
      traceback: ["1:7 - Type 'string' is not assignable to type 'number'."],
    });
    const err = toCellError([[new RangeError("too far")]]);
    expect(err?.ename).toBe("RangeError");
    expect(err?.evalue).toBe("too far");
    expect(toCellError([[{ not: "an error" }]])?.evalue).toMatch(
      /non-Error thrown: \{ not: 'an error' \}/,
    );
    expect(toCellError([])).toBeNull();
  });
});
