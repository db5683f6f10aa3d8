// The error of the execmem API; its vocabulary (types, sizes, addresses) is in lib/arch/execmem.ts.

/** Error for a misuse or an impossible request; the allocator state is unchanged after it. */
export class ExecmemError extends Error {
  readonly call: string;
  readonly argument: string;
  constructor(call: string, argument: string, message: string) {
    super(`${call}(${argument}): ${message}`);
    this.name = "ExecmemError";
    this.call = call;
    this.argument = argument;
  }
}
