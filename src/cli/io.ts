/** Output helpers for the CLI: stdout writes that respect back-pressure and closed pipes. */
import { promises as fsp } from 'node:fs';
import { CkptError } from '../errors.js';
import { ioError } from '../node/file-io.js';
import type { CheckpointProblem } from '../model/types.js';
import { safe } from '../views/format.js';

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

/**
 * Opens a file for the CLI's `--output` (the only file ckpt writes): created or truncated, written
 * in order; errors become one-line CkptErrors naming the file.
 */
export async function fileWriter(file: string): Promise<{ write(text: string): Promise<void>; close(): Promise<void> }> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'w');
  } catch (e) {
    throw ioError(e, file);
  }
  let written = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = async () => {
    if (pendingLength === 0) return;
    const text = pending.join('');
    pending = [];
    pendingLength = 0;
    try {
      written += (await handle.write(text)).bytesWritten;
    } catch (e) {
      throw new CkptError(`cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file, written);
    }
  };
  return {
    async write(text: string) {
      pending.push(text);
      pendingLength += text.length;
      if (pendingLength >= 1 << 20) await flush();
    },
    async close() {
      try {
        await flush();
      } finally {
        await handle.close();
      }
    },
  };
}

/** Colour is used only on a terminal, and never when NO_COLOR is set. */
export function useColour(): boolean {
  return Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
}

/** Exit code of a partial result: something was shown, but parts of the input are missing or damaged. */
export const EXIT_PARTIAL = 4;

/**
 * One warning line on stderr per missing or damaged part (`ckpt: warning: <member>[ at byte N]:
 * <what>`), and the run ends with the partial-result code.
 */
export function warnProblems(problems: readonly CheckpointProblem[]): void {
  for (const p of problems) {
    const where = `${p.file}${p.offset !== null ? ` at byte ${p.offset}` : ''}`;
    process.stderr.write(`ckpt: warning: ${safe(where)}: ${safe(p.message)}\n`);
  }
  if (problems.length) process.exitCode = EXIT_PARTIAL;
}
