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

/** An [offset, offset + size) argument: non-negative offset, positive size, within `total` bytes. */
export function checkWithin(call: string, offset: number, size: number, total: number): void {
  if (
    !Number.isInteger(offset) ||
    offset < 0 ||
    !Number.isInteger(size) ||
    size <= 0 ||
    offset + size > total
  )
    throw new ExecmemError(call, `offset=${offset}`, `offset+size must be within ${total}`);
}
