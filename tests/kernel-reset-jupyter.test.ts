/**
 * A kernel reset between notebooks (the runner reuses a kernel for the next notebook of its
 * folder): nothing a notebook leaves behind reaches the next one, and what a reset cannot undo
 * makes it refuse (the runner then starts a new kernel).
 */
import { writeFileSync } from "fs";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient, type Execution } from "../kernel/runner/client";
import { ROOT, tempDir } from "./kernel-support";

// The built launcher (the tests run the kernel's TypeScript sources, the kernel runs its build).
const LAUNCHER = join(ROOT, "kernel", "dist", "launch.js");

/** Text of every output of an execution (stream text, text/plain, error value). */
function text(e: Execution): string {
  return e.messages
    .map((m) => {
      const c = m.content as { text?: string; data?: { "text/plain"?: string }; evalue?: string };
      return c.text ?? c.data?.["text/plain"] ?? c.evalue ?? "";
    })
    .join("");
}

describe("kernel reset between notebooks", () => {
  let kernel: KernelClient;
  const run = (code: string) => kernel.execute(code, { timeoutMs: 60_000 });
  const dir = tempDir("reset");
  // A module with state of its own, imported by path as a notebook may import a helper.
  const counter = join(dir, "counter.js");
  writeFileSync(counter, "let n = 0;\nexports.bump = () => ++n;\n");

  beforeAll(async () => {
    kernel = await KernelClient.start({ cwd: join(ROOT, "notebooks"), launcher: LAUNCHER });
  });
  afterAll(async () => {
    await kernel?.shutdown(500);
  });

  it("leaves no variable, global, module state, environment or display routing to the next notebook", async () => {
    // The first notebook: state of every kind.
    const first = [
      `import { registerStatement, statementDefs, display } from "execmem-lab";
       let leaked = 41;
       (globalThis as any).leakedGlobal = "global";
       process.env.EXECMEM_LAB_LEAK = "env";
       registerStatement({ name: "leak_stmt", usage: "leak_stmt()", doc: "a test", handler: () => [] });
       statementDefs().some((d) => d.name === "leak_stmt")`,
      `const { bump } = require(${JSON.stringify(counter)}); bump(); bump()`,
      `(globalThis as any)[Symbol.for("execmem-lab.display")] = { display() { throw new Error("a notebook's own hook"); } };
       leaked + 1`,
    ];
    const outs = [];
    for (const c of first) outs.push(await run(c));
    expect(outs.map((o) => o.reply.status)).toEqual(["ok", "ok", "ok"]);
    expect(outs.map(text)).toEqual(["true\n", "2\n", "42\n"]);
    expect(outs[2].reply.execution_count).toBe(3);

    expect(await kernel.reset()).toBeNull();

    // The next notebook: a fresh start, from execution count 1.
    const fresh = await run(
      `import { statementDefs, display } from "execmem-lab";
       const { bump } = require(${JSON.stringify(counter)});
       display("shown by the kernel's hook");
       console.log([(globalThis as any).leakedGlobal, process.env.EXECMEM_LAB_LEAK,
         statementDefs().some((d) => d.name === "leak_stmt"), bump()].map(String).join(" "))`,
    );
    expect(fresh.reply.status).toBe("ok");
    expect(fresh.reply.execution_count).toBe(1);
    expect(fresh.messages.map((m) => m.header.msg_type)).toEqual(["display_data", "stream"]);
    expect(text(fresh)).toBe("shown by the kernel's hook" + "undefined undefined false 1\n");
    const unknown = await run("leaked");
    expect(unknown.reply.status).toBe("error");
    expect(String(unknown.reply.evalue)).toContain("Cannot find name 'leaked'");
    expect(await kernel.reset()).toBeNull();
  });

  it("refuses while work a cell started still runs, and resets once it has ended", async () => {
    await run(
      "const t = setInterval(() => {}, 50); (globalThis as any).stop = () => clearInterval(t)",
    );
    expect(await kernel.reset()).toMatch(/Timeout still active/);
    // Refused: nothing was undone.
    expect((await run("(globalThis as any).stop(); 1")).reply.status).toBe("ok");
    expect(await kernel.reset()).toBeNull();
    expect(text(await run("typeof (globalThis as any).stop"))).toBe("undefined\n");
  });

  it("refuses after a change to a built-in prototype or a registered module", async () => {
    await run(
      `Object.defineProperty(Array.prototype, "leakedMethod", { value: () => 1, configurable: true })`,
    );
    expect(await kernel.reset()).toMatch(/built-in prototype/);
    await run(`delete (Array.prototype as any).leakedMethod`);
    expect(await kernel.reset()).toBeNull();
    await run(`/** @module helper */\nexport const helper = 1;`);
    expect(await kernel.reset()).toMatch(/registered modules/);
  });

  it("a failed cell does not abort the next notebook's first cell", async () => {
    const k = await KernelClient.start({ cwd: join(ROOT, "notebooks"), launcher: LAUNCHER });
    try {
      expect((await k.execute("throw new Error('x')", { timeoutMs: 60_000 })).reply.status).toBe(
        "error",
      );
      expect(await k.reset()).toBeNull();
      expect((await k.execute("1 + 1", { timeoutMs: 60_000 })).reply.status).toBe("ok");
    } finally {
      await k.shutdown(500);
    }
  });
});
