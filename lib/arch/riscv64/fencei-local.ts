import { variant } from "../types";
import { riscv64 } from "./machine";

/**
 * What-if: FENCE.I as the Zifencei text alone reads it ("a subsequent instruction fetch on a
 * RISC-V hart will see any previous data stores already visible to the same RISC-V hart";
 * "FENCE.I does not ensure that other RISC-V harts' instruction fetches will observe the local
 * hart's stores"): the hart's later fetches see its own stores, which may stay in its store
 * buffer. herd7's model (and riscv64) orders them for every hart; docs/litmus.md says where
 * the two disagree.
 */
export const riscv64_fencei_local = variant(riscv64, {
  name: "riscv64+fencei-local",
  description: "riscv64 what-if: FENCE.I orders the hart's stores for its own fetches only",
  fenceIWaitsForStores: false,
  cites: {
    fenceI: 'RISC-V Unprivileged ISA, chapter "Zifencei": FENCE.I and other harts',
  },
});
