/**
 * The `ckpt` command line: argument parsing, printing, exit codes. Everything it shows comes from
 * the library; this layer adds nothing but parsing and printing.
 *
 * Exit codes (docs/cli.md): 0 success; 1 the input is bad or unreadable (one line on stderr
 * naming the file and byte offset); 2 the command line is wrong (the message names the option);
 * 3 internal error (a bug: please report it); 4 partial result (something was shown, but parts of
 * the input are missing or damaged: one warning line per part on stderr).
 */
import yargs, { type Argv } from 'yargs';
import { CkptError, safe } from '../node/index.js';
import { commands } from './commands/index.js';
import { EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, resetRunStatus, runStatus, setColourChoice, StdoutClosed, type ColourChoice } from './io.js';
import { pluginHelpLines, runPluginIfNamed } from './plugins.js';
import { setQuiet } from './progress.js';

export { EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_INTERNAL };

import { UsageError } from './usage-error.js';
export { UsageError };

/**
 * Options that take a value, with their one-letter aliases. As with GNU getopt, the word after
 * such an option is its value even when it begins with `-` (`--search --queue=payments`,
 * `--search-regex '-{2}x'`, `--context -1`), and an option missing its value is an error.
 */
const VALUE_OPTIONS: Record<string, string | undefined> = {
  pid: 'p',
  output: 'o',
  search: 's',
  'search-regex': 'r',
  'search-hex': 'x',
  context: 'c',
  format: undefined,
  'page-size': undefined,
  'max-match': undefined,
  'max-matches': undefined,
  'regex-timeout': undefined,
  color: undefined,
  prot: undefined,
  region: undefined,
  address: undefined,
  rootfs: undefined,
  parent: undefined,
  'oci-layout': undefined,
  'output-dir': undefined,
  cat: undefined,
  extract: undefined,
  'search-file': undefined,
  yara: undefined,
  'yara-rule': undefined,
  'fail-on': undefined,
  'min-severity': undefined,
  rule: undefined,
};
/** Options whose value is a whole number (checked here, so that the message can quote what was given). */
const INTEGER_OPTIONS = new Set(['pid', 'context', 'page-size', 'max-match', 'max-matches']);

/** Rewrites `--opt VALUE` / `-o VALUE` into `--opt=VALUE`, checks values are there and numbers are numbers. */
export function normaliseArgv(argv: string[]): string[] {
  const short = new Map(Object.entries(VALUE_OPTIONS).filter(([, s]) => s !== undefined).map(([l, s]) => [s!, l]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    let name: string | undefined;
    let letter: string | undefined;
    let value: string | undefined;
    let m: RegExpExecArray | null;
    if ((m = /^--([a-z][a-z-]*)(?:=([\s\S]*))?$/.exec(a)) && m[1]! in VALUE_OPTIONS) {
      name = m[1]!;
      value = m[2];
    } else if ((m = /^-([a-zA-Z])(?:=?([\s\S]+))?$/.exec(a)) && short.has(m[1]!)) {
      // kept as the letter: a command may give it to another long option (memdump's -o)
      name = short.get(m[1]!)!;
      letter = m[1]!;
      value = m[2];
    }
    if (name === undefined) {
      out.push(a);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
      value = argv[++i]!;
    }
    if (INTEGER_OPTIONS.has(name) && !/^[-+]?\d+$/.test(value.trim())) throw new UsageError(`option --${name} needs a whole number, not "${safe(value)}"`);
    out.push(letter !== undefined ? `-${letter}=${value}` : `--${name}=${value}`);
  }
  return out;
}

/** yargs names unknown options without their dashes: find them as they were typed. */
function unknownOptionMessage(msg: string, argv: string[]): string {
  // `ckpt --wrong`: yargs first misses the command; the option is what is wrong
  const known = /^--?(color|quiet|q|help|h|version|v)(=|$)/;
  const stray = argv.filter((a) => a.startsWith('-') && !known.test(a));
  if (msg.startsWith('Name a command') && stray.length) return `unknown option${stray.length > 1 ? 's' : ''}: ${stray.map(safe).join(', ')}`;
  const invalid = /^Invalid values:\s*Argument: ([\w-]+), Given: (.*?), Choices: (.*)$/s.exec(msg);
  if (invalid) return `option --${invalid[1]}: ${safe(invalid[2]!.trim())} is not one of ${invalid[3]!.trim()}`;
  const exclusive = /^Arguments ([\w-]+) and ([\w-]+) are mutually exclusive$/.exec(msg);
  if (exclusive) return `options --${exclusive[1]} and --${exclusive[2]} cannot be used together`;
  const missing = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(msg);
  if (missing) return `missing argument: this command needs at least ${missing[2]} (got ${missing[1]})`;
  const m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (!m) return msg;
  const names = m[1]!.split(', ');
  const typed = names.map((n) => argv.find((a) => a.replace(/^-+/, '').split('=')[0] === n) ?? n);
  return `unknown ${typed.every((t) => t.startsWith('-')) ? 'option' : 'argument'}${typed.length > 1 ? 's' : ''}: ${typed.map(safe).join(', ')}`;
}

/** The working directory, or undefined when it has been removed (process.cwd() throws then). */
function workingDirectory(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

export async function main(argv: string[]): Promise<number> {
  resetRunStatus();
  try {
    const builtins = commands.map((c) => String(c.command).split(' ')[0]!);
    const plugin = await runPluginIfNamed(argv, builtins);
    if (plugin !== undefined) return plugin;
    if (argv.length === 0) argv = ['--help'];
    const args = normaliseArgv(argv);
    let parser: Argv = yargs(args, workingDirectory() ?? '/')
      .scriptName('ckpt')
      .usage('$0 <command> [options]\n\nForensic analysis of CRIU container checkpoints (Podman, CRI-O, containerd, Kubernetes).')
      .strict()
      .demandCommand(1, 'Name a command: decode, show, inspect, list, memparse, diff, findings, rootfs, recover, memdump, coredump, build, completion, plugin.')
      .recommendCommands()
      .option('color', { type: 'string', choices: ['auto', 'always', 'never'], default: 'auto', global: true, describe: 'colour: auto (a terminal, unless NO_COLOR, FORCE_COLOR=0 or TERM=dumb), always, never' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, global: true, describe: 'no progress on stderr (progress is only shown on a terminal, for runs over a second)' })
      .middleware((a) => {
        setColourChoice(a.color as ColourChoice);
        setQuiet(Boolean(a.quiet));
      })
      .help()
      .alias('h', 'help')
      .version()
      .alias('v', 'version')
      .epilogue(argv.includes('--help') || argv.includes('-h') ? pluginHelpLines(builtins) : '')
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((msg, err) => {
        if (err) throw err;
        throw new UsageError(`${unknownOptionMessage(msg, argv)}\nRun 'ckpt --help' for usage.`);
      });
    for (const c of commands) parser = parser.command(c);
    await parser.parseAsync();
    return typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : runStatus();
  } catch (e) {
    // the reader of stdout went away (`| head`): the command stops, quietly
    if (e instanceof StdoutClosed) return typeof process.exitCode === 'number' ? process.exitCode : runStatus();
    if (e instanceof CkptError) {
      process.stderr.write(`ckpt: ${safe(e.message)}\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`ckpt: ${e.message.split('\n').map(safe).join('\n')}\n`);
      return EXIT_USAGE;
    }
    const err = e as Error;
    if ((err as NodeJS.ErrnoException)?.syscall === 'uv_cwd') {
      // a relative path given in a directory that has been removed
      process.stderr.write(`ckpt: the working directory no longer exists (${safe((err as NodeJS.ErrnoException).code ?? 'ENOENT')}): give absolute paths, or cd to a directory that exists\n`);
      return EXIT_BAD_INPUT;
    }
    process.stderr.write(`ckpt: internal error: ${safe(String(err?.message ?? e).split('\n')[0]!)}\n`);
    if (process.env.CKPT_DEBUG) process.stderr.write(`${err?.stack}\n`);
    return EXIT_INTERNAL;
  }
}
