import { variant } from "../types";
import { x86_64 } from "./machine";

/**
 * x86-64 with FRED: events are delivered by FRED and return with ERETS/ERETU, which the model
 * does not treat as serialising (Intel FRED spec 1.0, section 9; explicit sync_core() still is).
 */
export const x86_64_fred = variant(x86_64, {
  name: "x86-64+fred",
  description: "x86-64 with FRED: event delivery and ERETS/ERETU are not serialising",
  exceptions: {
    entrySyncs: false,
    returnSyncs: false,
    drainsStores: false,
    cite: "Intel FRED architecture spec: ERETS/ERETU are not serialising; event delivery is not either",
  },
  instructions: {
    ERETS: { effect: "none", cite: "Intel FRED spec: ERETS is not serialising" },
    ERETU: { effect: "none", cite: "Intel FRED spec: ERETU is not serialising" },
  },
});
