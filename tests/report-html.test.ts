import { describe, expect, it } from "vitest";
import { renderIndexPage, renderNotebookPage, scriptSafe } from "../kernel/report/html";
import type { Notebook } from "../kernel/runner/notebook";

const nb: Notebook = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {},
  cells: [
    {
      cell_type: "markdown",
      source: "# Title\n\nSee [next](01-next.ipynb#top) and <b>bold</b>.",
      metadata: {},
    },
    {
      cell_type: "code",
      source: "const x: number = 1;",
      metadata: {},
      execution_count: 1,
      outputs: [
        { output_type: "stream", name: "stdout", text: "<not html>\n" },
        {
          output_type: "display_data",
          data: {
            "application/vnd.plotly.v1+json": {
              data: [{ y: [1] }],
              layout: { title: "</script><b>" },
            },
            "text/html": "<p>fallback</p>",
            "text/plain": "fig",
          },
          metadata: {},
        },
      ],
    },
    {
      cell_type: "code",
      source: "throw new Error('e')",
      metadata: {},
      execution_count: 2,
      outputs: [
        {
          output_type: "error",
          ename: "Error",
          evalue: "e <x>",
          traceback: ["Error: e <x>", "    at cell"],
        },
      ],
    },
    { cell_type: "code", source: "later()", metadata: {}, execution_count: null, outputs: [] },
  ],
};

describe("notebook page", () => {
  const html = renderNotebookPage({
    title: "notebooks/x.ipynb",
    notebook: nb,
    cells: [
      { state: "ok" },
      { state: "ok", durationMs: 10 },
      { state: "failed" },
      { state: "not-run" },
    ],
    failures: [{ kind: "error", cell: 2, label: 'cell 3 ("throw")', message: "Error: e <x>" }],
    durationMs: 1000,
    indexHref: "index.html",
    ipynbHref: "x.ipynb",
  });

  it("renders markdown, rewrites notebook links to report pages, and highlights code", () => {
    expect(html.includes("<h1>Title</h1>")).toBe(true);
    expect(html.includes('href="01-next.html#top"')).toBe(true);
    expect(html.includes('<span class="hljs-keyword">const</span>')).toBe(true);
  });

  it("renders plotly figures with plotly.js inlined, prefers them over the HTML fallback, escapes safely", () => {
    // Booleans, not toContain: a failure must not print the 4.8 MB page.
    expect(html.includes("Plotly.newPlot(")).toBe(true);
    expect(html.includes("var Plotly=")).toBe(true); // plotly.js-dist-min inlined
    expect(html.includes("<p>fallback</p>")).toBe(false);
    expect(/<script[^>]*src=/.test(html)).toBe(false);
    expect(html.includes("\\u003c/script>\\u003cb>")).toBe(true);
    expect(html.includes("&#60;not html&#62;")).toBe(true);
  });

  it("shows errors in place, marks the page failed and greys cells that never ran", () => {
    expect(html.includes('<pre class="error">Error: e &#60;x&#62;\n    at cell</pre>')).toBe(true);
    expect(html.includes('class="banner failed"')).toBe(true);
    expect(html.includes('<div class="cell code not-run" id="cell-4">')).toBe(true);
  });

  it("inlines no plotly.js when there is no chart", () => {
    const plain = renderNotebookPage({
      title: "t",
      notebook: { ...nb, cells: [nb.cells[0]] },
      cells: [{ state: "ok" }],
      failures: [],
      durationMs: 1,
      indexHref: "i",
      ipynbHref: "t",
    });
    expect(plain.length).toBeLessThan(100_000);
    expect(plain).toContain('class="banner passed"');
  });

  it("keeps inline scripts from being closed early", () => {
    expect(scriptSafe("a</script>b<!--c")).toBe("a<\\/script>b<\\!--c");
  });
});

describe("index page", () => {
  it("lists notebooks with status and renders summaries as table rows", () => {
    const html = renderIndexPage(
      [
        {
          notebook: "notebooks/a.ipynb",
          status: "passed",
          href: "a.html",
          durationMs: 1500,
          kernelMs: 120,
          failures: [],
          summaries: [
            { argument: "A2", claim: "no atomic populate", finding: "stale <reachable>" },
            { argument: "A3", claim: "c", finding: "f" },
          ],
        },
        {
          notebook: "notebooks/b.ipynb",
          status: "failed",
          href: "b.html",
          failures: [{ label: "cell 2", message: "Error: x" }],
          summaries: [],
        },
        { notebook: "notebooks/c.ipynb", status: "running", href: "", failures: [], summaries: [] },
      ],
      new Date("2024-01-02T03:04:05Z"),
    );
    expect(html.includes("1 of 3 notebooks passed")).toBe(true);
    expect(html.includes('<td rowspan="2"><a href="a.html">notebooks/a.ipynb</a></td>')).toBe(true);
    expect(
      html.includes("<td>A2</td><td>no atomic populate</td><td>stale &#60;reachable&#62;</td>"),
    ).toBe(true);
    expect(html.includes("<td>A3</td><td>c</td><td>f</td>")).toBe(true);
    expect(html).toMatch(/FAILED<\/span><br>cell 2: Error: x/);
    expect(html.includes("incomplete")).toBe(true);
    // The time column: the notebook's, and of it the wait for its kernel.
    expect(html).toContain('<td rowspan="2">1.5 s<br><span class="meta">kernel 0.1 s</span></td>');
  });
});
