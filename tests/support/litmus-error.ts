/** The LitmusError a litmus reader or translation refuses with; fails the test otherwise. */
import { LitmusError } from "../../lib";

export function litmusErrorOf(f: () => unknown): LitmusError {
  try {
    f();
  } catch (e) {
    if (e instanceof LitmusError) return e;
    throw e;
  }
  throw new Error("expected a LitmusError");
}
