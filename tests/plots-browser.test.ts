/**
 * Draws every figure type in headless Chromium: the traces plotly.js draws, no console error,
 * PNG/SVG output, and a PNG snapshot compared within a tolerance.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { networkInterfaces, tmpdir } from "os";
import { createServer } from "http";
import type { AddressInfo } from "net";
import { join } from "path";
import { PNG } from "pngjs";
import { FigureRenderer, chromiumPath, renderFigures, renderFile } from "../kernel/render";
import { residencyHeatmap } from "../lib";
import { HREF, everyFigure, staleWitness } from "./plots-fixtures";

const browser = chromiumPath() !== null;
const SNAPSHOTS = join(__dirname, "plots-snapshots");

/** Share of pixels whose largest channel difference exceeds `tolerance`. */
export function pixelDiff(a: Buffer, b: Buffer, tolerance = 48): number {
  const pa = PNG.sync.read(a);
  const pb = PNG.sync.read(b);
  if (pa.width !== pb.width || pa.height !== pb.height) return 1;
  let differ = 0;
  for (let i = 0; i < pa.data.length; i += 4) {
    let d = 0;
    for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(pa.data[i + c] - pb.data[i + c]));
    if (d > tolerance) differ += 1;
  }
  return differ / (pa.width * pa.height);
}

// Without Chromium the browser tests are skipped, except in CI, where opening it fails them.
describe.runIf(browser || process.env.CI)("figures in headless Chromium", () => {
  let r: FigureRenderer;
  const figs = everyFigure();

  beforeAll(async () => {
    r = await FigureRenderer.open();
  });
  afterAll(async () => {
    await r?.close();
  });

  for (const name of Object.keys(figs)) {
    it(`draws the ${name} figure: every trace, no console error`, async () => {
      const fig = figs[name];
      const d = await r.draw(fig);
      expect(d.errors).toEqual([]);
      expect(d.fullData).toBe(fig.data.length);
      expect(d.traceNodes).toBe(fig.data.length);
    });
  }

  it("the drawing page reaches nothing but its own server (plotly.js from node_modules)", async () => {
    const page = (r as unknown as { page: import("playwright-core").Page }).page;
    const tryFetch = (url: string) =>
      page.evaluate(async (u) => {
        try {
          return (await fetch(u)).status;
        } catch {
          return "blocked";
        }
      }, url);
    expect(await tryFetch(new URL("/nothing", page.url()).href)).toBe(404);
    // A server this machine can reach on its own network address, which the page must not.
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && !i.internal && i.family === "IPv4");
    let hits = 0;
    const server = createServer((_, res) => {
      hits++;
      res.writeHead(200, { "access-control-allow-origin": "*" }).end("reached");
    });
    await new Promise<void>((res) => server.listen(0, "0.0.0.0", res));
    try {
      const port = (server.address() as AddressInfo).port;
      const direct = await fetch(`http://${lan?.address ?? "127.0.0.1"}:${port}/`);
      expect(direct.status).toBe(200);
      if (lan) {
        expect(await tryFetch(`http://${lan.address}:${port}/`)).toBe("blocked");
        expect(hits).toBe(1); // ours only
      }
    } finally {
      server.close();
    }
  });

  it("renders PNG and SVG", async () => {
    const png = await r.render(figs.verdicts, { format: "png" });
    const img = PNG.sync.read(png);
    expect([img.width, img.height]).toEqual([
      figs.verdicts.layout.width,
      figs.verdicts.layout.height,
    ]);
    const svg = (await r.render(figs.verdicts, { format: "svg" })).toString("utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("✗ stale");
    expect(svg).toContain(`href="${HREF}"`);
  });

  it("matches the residency snapshot within a tolerance", async () => {
    const png = await r.render(figs.residency, { format: "png" });
    const file = join(SNAPSHOTS, "residency.png");
    if (!existsSync(file)) {
      // A missing snapshot is written once on a developer machine and committed; CI needs it.
      expect(process.env.CI, `snapshot ${file} missing`).toBeFalsy();
      mkdirSync(SNAPSHOTS, { recursive: true });
      writeFileSync(file, png);
    }
    const diff = pixelDiff(png, readFileSync(file));
    expect(diff).toBeLessThan(0.01);
  });

  it("notices a changed figure in the snapshot comparison", async () => {
    const changed = residencyHeatmap(staleWitness, { versions: ["new", "old"] });
    const diff = pixelDiff(await r.render(changed), readFileSync(join(SNAPSHOTS, "residency.png")));
    expect(diff).toBeGreaterThan(0.01);
  });

  it("renders many figures with one browser, and a figure file to an image", async () => {
    const list = Object.values(figs).slice(0, 4);
    const imgs = await renderFigures(list, { format: "png", pages: 3 });
    expect(imgs).toHaveLength(4);
    imgs.forEach((b, i) => expect(PNG.sync.read(b).width).toBe(list[i].layout.width));
    // Pages drawing at once give each figure's image in its place, as one page does (here a
    // page of the open browser: a renderer's browser serves renderFigures and renderFile too).
    const one = await renderFigures(list, { format: "png", pages: 1, renderer: r });
    imgs.forEach((b, i) => expect(pixelDiff(b, one[i]), `figure ${i}`).toBeLessThan(0.01));
    const dir = mkdtempSync(join(tmpdir(), "execmem-lab-render-"));
    try {
      writeFileSync(join(dir, "f.json"), JSON.stringify(figs.scaling));
      await renderFile(join(dir, "f.json"), join(dir, "f.svg"), { renderer: r });
      expect(readFileSync(join(dir, "f.svg"), "utf8")).toContain("text_poke_bp");
      await expect(renderFile(join(dir, "f.json"), join(dir, "f.jpg"))).rejects.toThrow(
        /\.png or \.svg/,
      );
      writeFileSync(join(dir, "bad.json"), JSON.stringify({ layout: {} }));
      await expect(renderFile(join(dir, "bad.json"), join(dir, "bad.png"))).rejects.toThrow(
        /plotly figure/,
      );
      // The pages it borrowed are closed again; the renderer's own page remains.
      const page = (r as unknown as { page: import("playwright-core").Page }).page;
      expect(page.context().pages()).toEqual([page]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
