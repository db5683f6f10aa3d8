/** Outcomes of explorations, coloured by outcome class. */
import { OUTCOME_CLASSES, outcomeClassesOf, type ExplorationResult } from "../model";
import { outcomeColors } from "./colors";
import { Figure, Trace, figure } from "./figure";
import { esc } from "./util";

/**
 * For each exploration (x: "scenario · arch"), the number of distinct final states per outcome
 * class, stacked. An outcome with several classes (e.g. "spurious-fault" then "new") counts in each.
 */
export function outcomeBars(
  results: readonly ExplorationResult[],
  opts: { title?: string } = {},
): Figure {
  const xs = results.map((r) => `${r.scenario} · ${r.arch}`);
  const counts = OUTCOME_CLASSES.map((c) =>
    results.map((r) =>
      r.outcomes
        .filter((o) => outcomeClassesOf(o.values, o.key).includes(c))
        .reduce((a, o) => a + o.count, 0),
    ),
  );
  const data: Trace[] = OUTCOME_CLASSES.map((c, i) => ({
    type: "bar",
    name: c,
    legendgroup: `outcome:${c}`,
    x: xs.map(esc),
    y: counts[i],
    marker: { color: outcomeColors[c], line: { color: "#333", width: 0.5 } },
    hovertemplate: `%{x}<br>${c}: %{y} final states<extra></extra>`,
  })).filter((_, i) => counts[i].some((n) => n > 0));
  return figure(data, {
    title: opts.title ?? "Outcomes",
    barmode: "stack",
    width: Math.max(420, 90 * results.length + 200),
    height: 380,
    xaxis: { type: "category" },
    yaxis: { title: { text: "final states" }, rangemode: "tozero" },
  });
}
