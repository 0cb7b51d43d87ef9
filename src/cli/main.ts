/**
 * The `ckpt` command line: argument parsing, printing, exit codes. Everything it shows comes from
 * the library; this layer adds nothing but parsing and printing.
 *
 * Exit codes: 0 success; 1 the input is bad or unreadable (one line on stderr naming the file and
 * byte offset); 2 the command line is wrong; 3 internal error (a bug: please report it).
 */
import yargs, { type Argv } from 'yargs';
import { CkptError, escapeControl } from '../errors.js';
import { commands } from './commands/index.js';
import { StdoutClosed } from './io.js';
import { UsageError } from './usage-error.js';

export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;

export async function main(argv: string[]): Promise<number> {
  let parser: Argv = yargs(argv)
    .scriptName('ckpt')
    .usage('$0 <command> [options]\n\nForensic analysis of CRIU container checkpoints (Podman, CRI-O, containerd, Kubernetes).')
    .strict()
    .demandCommand(1, 'Name a command: decode, show, inspect, list, memparse, diff, coredump, build, findings.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(`${msg}\nRun 'ckpt --help' for usage.`);
    });
  for (const c of commands) parser = parser.command(c);
  try {
    await parser.parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (e) {
    // the reader of stdout went away (`| head`): what it wanted was written
    if (e instanceof StdoutClosed) return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
    if (e instanceof CkptError) {
      process.stderr.write(`ckpt: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`ckpt: ${escapeControl(e.message).replace(/\\n/g, '\n')}\n`);
      return EXIT_USAGE;
    }
    const err = e as Error;
    process.stderr.write(`ckpt: internal error: ${escapeControl(String(err?.message ?? e).split('\n')[0]!)}\n`);
    if (process.env.CKPT_DEBUG) process.stderr.write(`${err?.stack}\n`);
    return EXIT_INTERNAL;
  }
}
