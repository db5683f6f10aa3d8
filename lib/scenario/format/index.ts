/**
 * The textual scenario format: the Linux-kernel memory model's litmus dialect
 * (tools/memory-model/litmus-tests) extended with this project's primitives — code regions with
 * versions, pages and frames, code writes, PTE writes, architecture instructions, kernel routines,
 * calls into code and interrupts. docs/scenario-format.md is its reference.
 *
 *   C S1+direct-map-write+no-serialise
 *   arch x86-64
 *   (* Result: Sometimes *)
 *   { flag = 0; code f[2] = old versions(old, new); }
 *   P0(int *flag) { text_write(f, new); smp_store_release(flag, 1); }
 *   P1(int *flag) { int r0; while (!smp_load_acquire(flag)); r0 = f(); }
 *   exists (1:r0=stale)
 *
 * parseScenario() returns a ScenarioSpec whose ops carry their source positions and whose
 * `source` names the file: an error of the text (syntax, unknown names, arity) is a FormatError
 * here, and one the machine finds when it compiles the spec (an instruction the architecture
 * does not have...) is a FormatError at the statement's position too.
 *
 * The parts: lexer.ts (positions, comments, scanning), grammar.ts (the syntax tree, ast.ts),
 * declarations.ts (header, initial state, directives), processes.ts, context.ts and
 * statements.ts (what each statement means), final.ts (the condition), errors.ts.
 */
import { readFileSync } from "fs";
import type { ScenarioSpec } from "../spec";
import { directives, header, initialState } from "./declarations";
import { FormatError } from "./errors";
import { condition } from "./final";
import { parseSyntax, syntaxReason } from "./grammar";
import { blankComments, LineMap } from "./lexer";
import { Processes } from "./processes";
import { ParseState } from "./state";

export { FormatError } from "./errors";
export {
  registerStatement,
  statementDefs,
  type StatementArg,
  type StatementCall,
  type StatementContext,
  type StatementDef,
  type StatementHandler,
  type StatementSpec,
} from "./statements";

/** Reads and parses a scenario file. Errors name the path as given. */
export function loadScenario(path: string): ScenarioSpec {
  return parseScenario(readFileSync(path, "utf8"), path);
}

/**
 * Parses the text of a scenario file into a ScenarioSpec (not compiled: explore() or compile()
 * does that, reporting the machine's errors at the file's positions).
 * @throws {FormatError} "file:line:column: reason" for text that is not a scenario.
 */
export function parseScenario(text: string, fileName = "<scenario>"): ScenarioSpec {
  const lines = new LineMap(text);
  const { text: blanked, comments } = blankComments(text);
  if (!/\S/.test(blanked))
    throw new FormatError("empty file: a scenario starts with `C NAME`", fileName, 1, 1);
  const syn = parseSyntax(blanked, lines);
  if (!syn.ok)
    throw new FormatError(syntaxReason(blanked, syn), fileName, syn.pos.line, syn.pos.column);
  const f = syn.file;
  const spec: ScenarioSpec = { name: f.name.text, arch: "", data: {}, regions: [], cpus: [] };
  const st = new ParseState(spec, fileName, lines);
  header(st, f, comments);
  initialState(st, f);
  const processes = new Processes(st);
  processes.run(f);
  directives(st, f);
  processes.resolveWaits();
  if (f.final) condition(st, f.final.text, f.final.pos);
  spec.source = { file: fileName, pos: f.initPos };
  return spec;
}
