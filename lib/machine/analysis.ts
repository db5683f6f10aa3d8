/**
 * What the compiled programs allow, computed once per machine: CPUs that may be permuted
 * (symmetry), loads that may be left pending, and loads feeding the address of a clean.
 */
import type { Layout, Step } from "./layout";

/** CPUs with identical programs, speculation targets and interrupts, that send no IPI. */
export function symmetryGroups(L: Layout): number[][] {
  const sig = (c: number) => {
    const cpu = L.cpus[c];
    if (cpu.steps.some((s) => s.k === "ipi-send")) return null;
    return JSON.stringify([cpu.steps, cpu.speculate, cpu.interrupts, cpu.regs]);
  };
  const groups = new Map<string, number[]>();
  for (let c = 0; c < L.cpus.length; c++) {
    const k = sig(c);
    if (k === null) continue;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(c);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}

/**
 * Whether the load at step i may be left pending: some later memory access could then be
 * performed before it (Arm ARM B2.3). Otherwise leaving it pending only adds states: the steps
 * up to the next one that waits for it commute with it.
 */
export function deferrable(steps: Step[], i: number): boolean {
  const st = steps[i];
  if ((st.k !== "load" && st.k !== "ldr") || st.acquire) return false;
  const r = st.k === "load" ? st.reg : st.dst;
  const seen = new Set<number>();
  // [step, past a predicted branch on the load (then only loads may overtake it)]
  const work: [number, boolean][] = [[i + 1, false]];
  while (work.length) {
    const [j, spec] = work.pop()!;
    const key = j * 2 + (spec ? 1 : 0);
    if (j >= steps.length || seen.has(key) || seen.size > 64) continue;
    seen.add(key);
    const x = steps[j];
    switch (x.k) {
      case "load":
        if (x.reg !== r) return true;
        break;
      case "ldr":
        if (x.dst !== r && x.addr !== r) return true;
        break;
      case "store":
        if (!x.release && !spec) return true;
        break;
      case "str":
        if (!x.release && !spec && x.src !== r && x.addr !== r) return true;
        break;
      case "mov":
        if (x.dst !== r && x.src !== r) work.push([j + 1, spec]);
        break;
      case "alu":
      case "flags":
        if (!("dst" in x && x.dst === r) && x.a !== r && x.b !== r) work.push([j + 1, spec]);
        break;
      case "cset":
        if (x.dst !== r) work.push([j + 1, spec]);
        break;
      case "jump": {
        if (x.link === r) break;
        const onLoad = (x.when === "cbz" || x.when === "cbnz") && x.reg === r;
        if (onLoad && spec) break;
        if (x.target > j) work.push([x.target, spec || onLoad]);
        if (x.when !== "always") work.push([j + 1, spec || onLoad]);
        break;
      }
      case "effect":
        if (
          !spec &&
          (x.effect === "store-barrier" || x.effect === "none" || x.effect === "context-sync")
        )
          work.push([j + 1, spec]);
        break;
    }
  }
  return false;
}

/**
 * Whether the register the load at step i writes reaches, through moves and ALU operations, the
 * address of a later DC CVAU (an address dependency from the load to the clean).
 */
export function feedsClean(steps: Step[], i: number): boolean {
  const st = steps[i];
  if (st.k !== "load" && st.k !== "ldr") return false;
  const seen = new Set<number>();
  const work: [number, Set<number>][] = [[i + 1, new Set([st.k === "load" ? st.reg : st.dst])]];
  while (work.length) {
    const [j, taint] = work.pop()!;
    if (j >= steps.length || seen.has(j) || seen.size > 64) continue;
    seen.add(j);
    const x = steps[j];
    const next = new Set(taint);
    switch (x.k) {
      case "mov":
        if (x.src >= 0 && taint.has(x.src)) next.add(x.dst);
        else next.delete(x.dst);
        break;
      case "alu":
        if (taint.has(x.a) || (x.b >= 0 && taint.has(x.b))) next.add(x.dst);
        else next.delete(x.dst);
        break;
      case "ldr":
      case "load":
        next.delete(x.k === "load" ? x.reg : x.dst);
        break;
      case "effect-reg":
        if (x.effect === "clean-to-pou" && taint.has(x.addr)) return true;
        break;
      case "jump":
        if (x.target > j) work.push([x.target, next]);
        if (x.when === "always") continue;
        break;
      case "br":
        continue;
    }
    if (next.size) work.push([j + 1, next]);
  }
  return false;
}
