import type { CommandModule } from 'yargs';
import { createRequire } from 'node:module';
import {
  disassemblerProblem,
  disassembleX64,
  findFindings,
  FINDING_RULES,
  findingsJson,
  findingsSarif,
  findingsText,
  type Finding,
  isSeverity,
  openCheckpointFile,
  SEVERITIES,
  type Severity,
  severityRank,
} from '../../node/index.js';
import { out, useColour, warnProblems } from '../io.js';
import { UsageError } from '../usage-error.js';

/** One renderer per --format (its key is the choice): adding a format is one entry here. */
const RENDERERS = {
  text: (checkpoint: string, shown: Finding[]) => findingsText(checkpoint, shown, { colour: useColour(), note: disassemblerProblem() }),
  json: (checkpoint: string, shown: Finding[]) => findingsJson(checkpoint, shown),
  sarif: (checkpoint: string, shown: Finding[]) => {
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string; homepage?: string };
    return findingsSarif(checkpoint, shown, FINDING_RULES, { name: 'ckpt', version: pkg.version, informationUri: pkg.homepage });
  },
};
type FindingsFormat = keyof typeof RENDERERS;

interface FindingsArgs {
  checkpoint?: string;
  format: FindingsFormat;
  'fail-on'?: string;
  rule?: string[];
  'min-severity': string;
  'list-rules': boolean;
  disassemble: boolean;
}

export const findingsCommand: CommandModule<object, FindingsArgs> = {
  command: 'findings [checkpoint]',
  describe: 'What in a checkpoint looks like tampering (injected code, patched libraries, hidden programs, preloads, reverse shells, listeners, setuid files, changed accounts), with the evidence',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', describe: 'checkpoint archive (.tar, gzip or zstd) or checkpoint/image directory' })
      .option('format', { choices: Object.keys(RENDERERS) as FindingsFormat[], default: 'text' as FindingsFormat, describe: 'output format (sarif: SARIF 2.1.0 for code scanning and SIEM tools)' })
      .option('fail-on', { type: 'string', describe: `exit 1 when there is a finding of this severity or above (${SEVERITIES.join(', ')})` })
      .option('min-severity', { type: 'string', default: 'info', describe: 'show only findings of this severity or above' })
      .option('rule', { type: 'string', array: true, describe: 'only these rules (ids; see --list-rules)' })
      .option('list-rules', { type: 'boolean', default: false, describe: 'list the rules and exit' })
      .option('disassemble', { type: 'boolean', default: true, describe: 'disassemble code evidence (x86-64, iced-x86); --no-disassemble for hex only' })
      .example('$0 findings checkpoint.tar', 'every finding, most severe first, with the first 64 bytes of each flagged region or file')
      .example('$0 findings checkpoint.tar --format sarif > findings.sarif', 'for code scanning (GitHub, SIEM)')
      .example('$0 findings checkpoint.tar --fail-on high', 'exit 1 when anything of high severity is found (CI gates)'),
  handler: async (args) => {
    if (args['list-rules']) {
      await out(FINDING_RULES.map((r) => `${r.id.padEnd(30)} ${r.severity.padEnd(7)} ${r.title}`).join('\n') + '\n');
      return;
    }
    const checkpoint = args.checkpoint;
    if (checkpoint === undefined) throw new UsageError('name a checkpoint (or --list-rules)');
    const sev = (name: string, v: string): Severity => {
      if (!isSeverity(v)) throw new UsageError(`--${name} must be one of ${SEVERITIES.join(', ')}, not "${v}"`);
      return v;
    };
    const failOn = args['fail-on'] !== undefined ? sev('fail-on', args['fail-on']) : undefined;
    const min = sev('min-severity', args['min-severity']);
    const rules = args.rule?.flatMap((r) => r.split(','));
    for (const r of rules ?? []) if (!FINDING_RULES.some((x) => x.id === r)) throw new UsageError(`--rule: no rule "${r}" (see ckpt findings --list-rules)`);

    const ck = await openCheckpointFile(checkpoint);
    try {
      const all = await findFindings(ck, { rules, disassemble: args.disassemble && args.format !== 'sarif' ? disassembleX64 : undefined });
      const shown = all.filter((f) => severityRank(f.severity) >= severityRank(min));
      await out(RENDERERS[args.format](checkpoint, shown));
      // damaged or missing parts: one warning each, exit 4 (a partial result)
      warnProblems(ck.problems);
      if (failOn && all.some((f) => severityRank(f.severity) >= severityRank(failOn))) {
        const n = all.filter((f) => severityRank(f.severity) >= severityRank(failOn)).length;
        process.stderr.write(`ckpt: ${n} finding${n === 1 ? '' : 's'} of severity ${failOn} or above (--fail-on ${failOn})\n`);
        process.exitCode = 1;
      }
    } finally {
      await ck.close();
    }
  },
};
