/**
 * The operational machine (docs/model.md): memory, point of unification, and per CPU a store
 * buffer, TLB, I-cache and fetch pipeline ("transient cache" of in-flight instructions). A state
 * is a compact byte vector; `successors` enumerates every enabled transition, program steps and
 * hardware steps alike. Architecture differences come only from the ArchVariant's fields.
 *
 * The machine is built in layers, one concern per file, each extending the one below:
 * state (encoding) → canonical (reductions) → fetch (instruction side) → store-buffer → ipi →
 * insn (instruction-level steps) → loads (out of order) → effects (barriers, maintenance) →
 * call (running a function) → transitions (successors) → views (observe, residency) → trace
 * (describe and diff of a step, for witnesses).
 */
import type { ScenarioSpec } from "../scenario/spec";
import { compile, type Layout } from "./layout";
import type { MachineOptions } from "./state";
import { Trace } from "./trace";

export {
  K,
  callResultText,
  label,
  labelArg,
  labelCpu,
  labelKind,
  type Emit,
  type MachineOptions,
} from "./state";
export { encodePte } from "./layout";
export { diffText } from "./trace";

/**
 * The operational machine of a compiled scenario (see docs/model.md): states are byte arrays,
 * and each enabled transition (a program step of a CPU, or a hardware step such as a store
 * buffer drain, a TLB or I-cache fill or eviction, or a pipeline refetch) is emitted with its
 * label. The explorer drives it; use {@link explore} rather than this class directly.
 */
export class Machine extends Trace {
  constructor(specOrLayout: ScenarioSpec | Layout, opts: MachineOptions = {}) {
    super(
      "arch" in specOrLayout && "cpus" in specOrLayout && "nLoc" in specOrLayout
        ? (specOrLayout as Layout)
        : compile(specOrLayout as ScenarioSpec),
      opts,
    );
  }
}
