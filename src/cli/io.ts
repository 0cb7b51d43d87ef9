/**
 * Output helpers for the CLI: stdout writes that respect back-pressure and closed pipes, colour
 * choice, warnings about missing or damaged parts, and the run's exit status. (Files are written
 * through src/node/output.ts only.)
 */
import { type CheckpointProblem, safe } from '../node/index.js';

let stdoutClosed = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') stdoutClosed = true;
});

/** Resolves when stdout drains or closes, rejects on its error; leaves no listener behind. */
function drained(): Promise<void> {
  const so = process.stdout;
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      so.off('drain', done);
      so.off('close', done);
      so.off('error', fail);
    };
    const done = () => (cleanup(), resolve());
    const fail = (e: Error) => (cleanup(), reject(e));
    so.on('drain', done);
    so.on('close', done);
    so.on('error', fail);
  });
}

/** Thrown by `out` once the reader of stdout went away (`| head`): the command stops, quietly. */
export class StdoutClosed extends Error {
  readonly code = 'EPIPE';
  constructor() {
    super('stdout closed');
  }
}

/**
 * Writes text or bytes to stdout, waiting when the pipe is full. When the reader went away (`| head`) it throws
 * StdoutClosed, so that the work stops at once; main() ends the command quietly.
 */
export async function out(text: string | Uint8Array): Promise<void> {
  if (stdoutClosed) throw new StdoutClosed();
  if (process.stdout.write(text)) return;
  try {
    await drained();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    stdoutClosed = true;
  }
  if (stdoutClosed || process.stdout.destroyed) throw new StdoutClosed();
}

export type ColourChoice = 'auto' | 'always' | 'never';
let colourChoice: ColourChoice = 'auto';

/** `--color auto|always|never` (set once by main before the command runs). */
export function setColourChoice(choice: ColourChoice): void {
  colourChoice = choice;
}

/**
 * Colour on stdout: `--color always|never` decides; with `auto` (the default) colour is used on a
 * terminal unless NO_COLOR is set (not empty), FORCE_COLOR is 0 or TERM is dumb; FORCE_COLOR set
 * to anything else forces it on.
 */
export function useColour(): boolean {
  if (colourChoice !== 'auto') return colourChoice === 'always';
  const env = process.env;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
  if (env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return true;
  return Boolean(process.stdout.isTTY);
}

/** Exit codes (docs/cli.md). */
export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;
export const EXIT_PARTIAL = 4;

let partial = false;
let failed = false;

/**
 * One warning line on stderr per missing or damaged part (`ckpt: warning: <member>[ at byte N]:
 * <what>`, the member prefixed by the checkpoint when several are shown), and the run ends with
 * the partial-result code unless it failed.
 */
export function warnProblems(problems: readonly CheckpointProblem[], checkpoint?: string): void {
  for (const p of problems) {
    const where = `${checkpoint !== undefined ? `${checkpoint}:` : ''}${p.file}${p.offset !== null ? ` at byte ${p.offset}` : ''}`;
    process.stderr.write(`ckpt: warning: ${safe(where)}: ${safe(p.message)}\n`);
  }
  if (problems.length) partial = true;
}

/** One checkpoint of several could not be read: say why, carry on, and end with exit 1. */
export function reportFailure(message: string): void {
  process.stderr.write(`ckpt: ${safe(message)}\n`);
  failed = true;
}

/** Starts a run with a clean status (main() is called once per run, and more than once by embedders and the fuzzer). */
export function resetRunStatus(): void {
  partial = false;
  failed = false;
}

/** The exit code the run has earned so far: 1 when something failed, 4 when something was partial, else 0. */
export function runStatus(): number {
  return failed ? EXIT_BAD_INPUT : partial ? EXIT_PARTIAL : EXIT_OK;
}
