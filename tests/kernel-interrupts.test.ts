/**
 * EarlyInterrupts (kernel/interrupts.ts): an interrupt that came while no cell was executing stops
 * the first request read within the window after it that was sent before it, and nothing else.
 */
import { describe, expect, it } from "vitest";
import { EarlyInterrupts, headerDate } from "../kernel/interrupts";

describe("interrupts that overtake a cell's request", () => {
  it("stop the request sent before the interrupt and read soon after it, once", () => {
    const g = new EarlyInterrupts(1000);
    g.signal(10_000);
    expect(g.read(9_990, 10_050).stop).toBe(true);
    // Run All: the other requests sent before the interrupt are not stopped here; the first
    // one's error aborts them (tslab's stop on error).
    expect(g.read(9_991, 10_051).stop).toBe(false);
  });

  it("stop nothing sent after the interrupt, read after the window, or without a date", () => {
    const g = new EarlyInterrupts(1000);
    g.signal(10_000);
    expect(g.read(10_001, 10_050).stop).toBe(false);
    g.signal(20_000);
    expect(g.read(19_999, 21_001).stop).toBe(false);
    g.signal(30_000);
    expect(g.read(undefined, 30_010).stop).toBe(false);
    // The interrupt was used up by the request read (stopped or not).
    expect(g.read(29_999, 30_020).stop).toBe(false);
  });

  it("leave an interrupt that comes while a cell executes to tslab", () => {
    const g = new EarlyInterrupts(1000);
    const running = g.read(1_000, 1_001);
    g.start(running);
    g.signal(1_500);
    g.end(running);
    // The next request (queued before the interrupt) is not stopped by it.
    expect(g.read(1_400, 1_600).stop).toBe(false);
    // The end of a cell that is not the executing one changes nothing.
    const a = g.read(2_000, 2_001);
    g.start(a);
    g.end(g.read(2_002, 2_003));
    g.signal(2_500);
    expect(g.read(2_400, 2_600).stop).toBe(false);
  });

  it("read the front end's dates by its clock's lag behind the kernel's, learnt from earlier requests", () => {
    // A front end whose clock is 3 s behind the kernel's (a browser on another machine).
    const g = new EarlyInterrupts(1000);
    expect(g.read(7_000, 10_001).stop).toBe(false);
    g.signal(20_000);
    // Made 0.5 s after the interrupt by the kernel's clock: 16.5 s by the front end's.
    expect(g.read(17_500, 20_501).stop).toBe(false);
    g.signal(30_000);
    // Made before the interrupt, overtaken by it.
    expect(g.read(26_990, 30_040).stop).toBe(true);
    // A lag under 50 ms is delivery time, not another clock: a request sent 1 ms before the
    // interrupt and read 30 ms after the last one's delivery lag of 20 ms is stopped.
    const same = new EarlyInterrupts(1000);
    same.read(1_000, 1_020);
    same.signal(2_000);
    expect(same.read(1_999, 2_030).stop).toBe(true);
  });

  it("an interrupt handled right after the kernel's own idle work may have come during it: not taken", () => {
    const g = new EarlyInterrupts(1000);
    g.busy(5_000);
    g.signal(5_001);
    expect(g.read(4_990, 5_010).stop).toBe(false);
    g.signal(6_000);
    expect(g.read(5_990, 6_010).stop).toBe(true);
  });

  it("headerDate reads Jupyter's UTC dates and refuses one without a time zone", () => {
    expect(headerDate("2026-12-01T18:00:00.123456Z")).toBe(Date.UTC(2026, 11, 1, 18, 0, 0, 123));
    expect(headerDate("2026-12-01T19:00:00.123+01:00")).toBe(Date.UTC(2026, 11, 1, 18, 0, 0, 123));
    expect(headerDate("2026-12-01T18:00:00.123456")).toBeUndefined();
    expect(headerDate("yesterday Z")).toBeUndefined();
    expect(headerDate(undefined)).toBeUndefined();
    expect(headerDate(12)).toBeUndefined();
  });
});
