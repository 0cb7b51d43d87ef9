/** Output helpers for the CLI: stdout writes that respect back-pressure and closed pipes. */

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
 * Writes to stdout, waiting when the pipe is full. When the reader went away (`| head`) it throws
 * StdoutClosed, so that the work stops at once; main() ends the command quietly.
 */
export async function out(text: string): Promise<void> {
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

export { fileWriter } from '../source/node.js';

/** Colour is used only on a terminal, and never when NO_COLOR is set. */
export function useColour(): boolean {
  return Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
}
