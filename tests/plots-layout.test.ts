import { describe, expect, it } from "vitest";
import { figure, fitToColumn, seriesColors, withAutomargin } from "../lib";

describe("figure layout defaults", () => {
  it("every axis grows its margin to fit its labels, subplots included", () => {
    const f = figure([], { xaxis2: { title: { text: "t" } }, yaxis3: {} });
    for (const k of ["xaxis", "yaxis", "xaxis2", "yaxis3"]) {
      expect((f.layout[k] as { automargin?: boolean }).automargin, k).toBe(true);
    }
    expect((f.layout.xaxis2 as { title: unknown }).title).toEqual({ text: "t" });
    // A figure may still say otherwise.
    expect(withAutomargin({ xaxis: { automargin: false } }).xaxis).toEqual({ automargin: false });
  });

  it("traces without their own colour take the series colours", () => {
    expect(figure([]).layout.colorway).toEqual([...seriesColors]);
  });

  it("a fixed width becomes the container's maximum width, the figure autosized", () => {
    const { figure: fitted, maxWidth } = fitToColumn({
      data: [],
      layout: { width: 2400, height: 300 },
    });
    expect(maxWidth).toBe(2400);
    expect(fitted.layout).toEqual({ height: 300, autosize: true });
    expect(fitted.config).toEqual({ responsive: true });
    expect(fitToColumn({ data: [] }).maxWidth).toBeNull();
  });
});
