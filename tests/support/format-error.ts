/** The FormatError a scenario text is refused with; fails the test if it parses. */
import { expect } from "vitest";
import { FormatError, parseScenario } from "../../lib/scenario/format";

export function formatErrorOf(text: string): FormatError {
  try {
    parseScenario(text, "t.litmus");
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error("no error");
}
