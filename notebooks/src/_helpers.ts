// Display and query helpers every notebook of the set uses (lib/display.ts, lib/explorer/query.ts).
// They only format and select results; every value they show is computed in this run.
import {
  table,
  md,
  stepsTable,
  valuesOf,
  classesOf,
  badOf,
  badWitness,
  resultRow,
  BAD_CLASSES,
} from "execmem-lab";
import { shortestWhere as shortest, type ExplorationResult } from "execmem-lab";

/** The columns a run table gives an exploration: what CPU1 ran, the bad outcomes, the states. */
const ranColumns = (r: ExplorationResult) => ({
  "CPU1 ran": valuesOf(r).join(", "),
  "bad outcomes": badOf(r).join(", ") || "none",
  states: r.stats.states,
});
