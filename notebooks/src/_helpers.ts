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
import { shortestWhere as shortest } from "execmem-lab";
