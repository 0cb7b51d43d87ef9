/**
 * The `--yara RULES.yar` / `--yara-rule 'rule …'` options of memparse, rootfs and recover: the
 * rules compiled with the native engine (src/node/yara.ts), loaded only when one of them is given.
 */
import type { Argv } from 'yargs';
import { compileYara, readTextFile, type WindowMatcher } from '../node/index.js';

export interface YaraArgs {
  yara?: string;
  'yara-rule'?: string;
}

/** Adds the two options (what they scan is `what`: "memory", "the files"). */
export function yaraOptions<T>(y: Argv<T>, what: string): Argv<T & YaraArgs> {
  return y
    .option('yara', { type: 'string', describe: `scan ${what} with the YARA rules of this file (YARA-X)` })
    .option('yara-rule', { type: 'string', describe: `scan ${what} with this YARA rule text, e.g. 'rule x { strings: $a = "evil" condition: $a }'` })
    .conflicts('yara', 'yara-rule') as Argv<T & YaraArgs>;
}

/** True when one of the options is given. */
export function wantsYara(args: YaraArgs): boolean {
  return args.yara !== undefined || args['yara-rule'] !== undefined;
}

/**
 * The rules the options name, as a WindowMatcher, with what to call them (`the YARA rules of
 * x.yar`). Rules that do not compile are a CkptError naming the file (or `--yara-rule`); compile
 * warnings go to stderr. Where the native engine cannot load, one line on stderr says so, the
 * exit code is 1 and the result is a string (the caller stops; nothing else is affected).
 */
export async function compileYaraArgs(args: YaraArgs): Promise<{ matcher: WindowMatcher; shown: string } | string> {
  // the native engine (a require inside compileYara) is loaded only now, and only here
  const name = args.yara ?? '--yara-rule';
  const rules = compileYara(args.yara !== undefined ? await readTextFile(args.yara) : args['yara-rule']!, name);
  if (typeof rules === 'string') {
    process.stderr.write(`ckpt: ${rules}\n`);
    process.exitCode = 1;
    return rules;
  }
  for (const w of rules.warnings) process.stderr.write(`ckpt: warning: ${name}: ${w}\n`);
  return { matcher: rules.matcher(), shown: args.yara !== undefined ? `the YARA rules of ${args.yara}` : 'the YARA rule' };
}
