/**
 * The FormatError a scenario text is refused with, by the parser or by the machine's compile of
 * what it parsed; fails the test if it is accepted.
 */
import { expect } from "vitest";
import { compile, FormatError, parseScenario } from "../../lib";

export function formatErrorOf(text: string): FormatError {
  try {
    compile(parseScenario(text, "t.litmus"));
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error("no error");
}
