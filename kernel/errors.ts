/**
 * Errors of bad input (a bad path or value, a missing notebook, no Jupyter): the command line prints
 * their message on one line and exits 2. A module of its own so that the command line knows them
 * without loading the modules that throw them.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
