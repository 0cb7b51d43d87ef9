/** Output helpers for the CLI: stdout writes that respect back-pressure and closed pipes. */
import { once } from 'node:events';

let stdoutClosed = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') stdoutClosed = true;
});

/** Writes to stdout, waiting when the pipe is full; silently stops when the reader went away. */
export async function out(text: string): Promise<void> {
  if (stdoutClosed) return;
  if (process.stdout.write(text)) return;
  try {
    await Promise.race([once(process.stdout, 'drain'), once(process.stdout, 'close')]);
  } catch (e) {
    // `once` rejects on 'error': a reader that went away (`| head`) ends the output quietly
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    stdoutClosed = true;
  }
}

export { fileWriter } from '../source/node.js';

/** Colour is used only on a terminal, and never when NO_COLOR is set. */
export function useColour(): boolean {
  return Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
}
