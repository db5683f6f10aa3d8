import { variant } from "../types";
import { riscv64 } from "./machine";

const ZICCID =
  'RISC-V Unprivileged ISA, "Ziccid" (instruction/data coherence and consistency), an RVA23 profile option';

/**
 * riscv64 with Ziccid: instruction fetch is coherent with data stores (a store visible to the
 * hart is visible to its fetches, no I-cache can hold an older instruction) and fetches are
 * performed in program order; what a hart has already fetched ahead still runs until FENCE.I.
 */
export const riscv64_ziccid = variant(riscv64, {
  name: "riscv64+ziccid",
  description: "riscv64 with Zifencei and Ziccid (coherent instruction fetch)",
  dic: true,
  fetchMaySeeOwnStores: false,
  lateFetch: false,
  cites: {
    ziccid: `${ZICCID}: fetches are coherent with stores and ordered in program order`,
    fetchMaySeeOwnStores: `${ZICCID}: a fetch sees a store when it is visible to the hart's data side`,
    lateFetch: `${ZICCID}: fetches are performed in program order`,
  },
});
