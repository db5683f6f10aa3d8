/** A64 condition codes (Arm ARM C1.2.4), which the litmus front-end and the machine both read. */

/** The condition of each 4-bit encoding, in order; 0b1111 (NV) behaves as AL. */
export const A64_CONDITIONS = [
  "EQ",
  "NE",
  "CS",
  "CC",
  "MI",
  "PL",
  "VS",
  "VC",
  "HI",
  "LS",
  "GE",
  "LT",
  "GT",
  "LE",
  "AL",
  "AL",
] as const;

/** The other names of two conditions: HS for CS, LO for CC. */
const ALIASES: Readonly<Record<string, string>> = { CS: "HS", CC: "LO" };

/** Every condition name the assembly accepts (each encoding, its alias after it). */
export const CONDS: readonly string[] = [...new Set<string>(A64_CONDITIONS)].flatMap((c) =>
  ALIASES[c] ? [c, ALIASES[c]] : [c],
);
