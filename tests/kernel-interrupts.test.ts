/**
 * EarlyInterrupts (kernel/interrupts.ts): an interrupt that came while no cell was executing stops
 * the first request read within the window after it that was sent before it, and nothing else.
 */
import { describe, expect, it } from "vitest";
import { EarlyInterrupts } from "../kernel/interrupts";

describe("interrupts that overtake a cell's request", () => {
  it("stop the request sent before the interrupt and read soon after it, once", () => {
    const g = new EarlyInterrupts(1000);
    g.signal(10_000);
    const first = g.read(9_990, 10_050);
    expect(first.stop).toBe(true);
    // Run All: the other requests sent before the interrupt are not stopped here; the first
    // one's error aborts them (tslab's stop on error).
    expect(g.read(9_991, 10_051).stop).toBe(false);
    g.start(first);
    expect(g.compiled()).toBe(true);
    g.end(first);
    expect(g.compiled()).toBe(false);
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
    expect(g.compiled()).toBe(false);
    g.end(running);
    // The next request (queued before the interrupt) is not stopped by it.
    expect(g.read(1_400, 1_600).stop).toBe(false);
  });

  it("a compile outside any cell (the kernel's idle warm-up) is never stopped", () => {
    const g = new EarlyInterrupts(1000);
    g.signal(5_000);
    expect(g.compiled()).toBe(false);
    // The end of a cell that is not the executing one changes nothing.
    const a = g.read(4_000, 5_010);
    const b = g.read(4_001, 5_011);
    g.start(a);
    g.end(b);
    expect(g.compiled()).toBe(a.stop);
  });
});
