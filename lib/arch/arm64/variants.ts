import { variant } from "../types";
import { arm64 } from "./machine";

const CTR = "Arm ARM D17.2.33 CTR_EL0";
// arch/arm64/mm/cache.S caches_clean_inval_pou_macro: IDC replaces the DC loop by DSB ISHST,
// DIC replaces the IC loop by ISB; flush_icache_range() still calls kick_all_cpus_sync().
const flushWith = (idc: boolean, dic: boolean) => ({
  steps: [
    ...(idc ? [{ insn: "DSB ISHST" }] : [{ insn: "DC CVAU", perLine: true }, { insn: "DSB ISH" }]),
    ...(dic ? [] : [{ insn: "IC IVAU", perLine: true }, { insn: "DSB ISH" }]),
    { insn: "ISB" },
    { ipi: "none" as const, self: false },
  ],
  cite: "arch/arm64/mm/cache.S caches_clean_inval_pou_macro; arch/arm64/include/asm/cacheflush.h",
});

/** arm64 with the CTR_EL0 bits `idc` and `dic` set as given; `note` qualifies the description. */
function withCtr(idc: boolean, dic: boolean, note = "") {
  const bits = [idc ? "idc" : "", dic ? "dic" : ""].filter(Boolean);
  return variant(arm64, {
    name: ["arm64", ...bits].join("+"),
    description: `arm64, CTR_EL0.IDC=${Number(idc)} DIC=${Number(dic)}${note}`,
    idc,
    dic,
    macros: { flush_icache_range: flushWith(idc, dic) },
    cites: Object.fromEntries(bits.map((b) => [b, `${CTR}.${b.toUpperCase()}`])),
  });
}

/** CTR_EL0.IDC=1: data writes are visible at the PoU without DC CVAU. */
export const arm64_idc = withCtr(true, false);

/**
 * CTR_EL0.DIC=1 with IDC=0: not an architectural configuration (CTR_EL0: "If DIC is 1 then IDC
 * must also be 1"); kept as a what-if to separate the two bits' effects.
 */
export const arm64_dic = withCtr(false, true, " (hypothetical: DIC=1 requires IDC=1)");

/** CTR_EL0.IDC=1 and DIC=1. */
export const arm64_idc_dic = withCtr(true, true);

/** FEAT_ExS with SCTLR_EL1.EIS=0 and EOS=0: exception entry and return do not synchronise. */
export const arm64_exs = variant(arm64, {
  name: "arm64+exs",
  description: "arm64, FEAT_ExS with SCTLR_EL1.EIS=0 EOS=0",
  exceptions: {
    entrySyncs: false,
    returnSyncs: false,
    drainsStores: false,
    cite: "Arm ARM D17.2.118 SCTLR_EL1.EIS/EOS (FEAT_ExS): exception entry/return are not context synchronising when 0",
  },
});
