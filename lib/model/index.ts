/**
 * The vocabulary every layer of the library shares: outcome classes and observations, results
 * and witnesses, the verdict rule, errors, the interrupt hook, the PRNG. Imports nothing else
 * from the library.
 */
export * from "./outcome";
export * from "./result";
export * from "./verdict";
export * from "./errors";
export * from "./interrupt";
export * from "./prng";
export * from "./conditions";
