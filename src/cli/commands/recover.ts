import type { CommandModule } from 'yargs';
import { join } from 'node:path';
import {
  artifactMatchJson,
  CkptError,
  fileMatchHeader,
  fileMatchLine,
  findArtifactMatches,
  hashFile,
  listArtifacts,
  openCheckpointFile as openCheckpoint,
  recoverManifest,
  recoverSummary,
  safe,
  writeArtifacts,
  writeAtomically,
  jsonText,
} from '../../node/index.js';
import { out, useColour, warnProblems } from '../io.js';
import { UsageError } from '../usage-error.js';
import { compileYaraArgs, wantsYara, yaraOptions, type YaraArgs } from '../yara-options.js';

interface RecoverArgs extends YaraArgs {
  checkpoint: string;
  'output-dir': string;
  pid?: number;
  force: boolean;
  format: 'text' | 'json';
}

export const recoverCommand: CommandModule<object, RecoverArgs> = {
  command: 'recover <checkpoint>',
  describe: 'Save the data that lives only in the checkpoint: deleted-but-open files, memfds, pipe and socket queues, TCP queues, SysV shm, the container log, /dev/shm; with a manifest of hashes',
  builder: (y) =>
    yaraOptions(
      y
        .positional('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint archive (.tar, gzip or zstd) or checkpoint directory' })
        .option('output-dir', { alias: 'o', type: 'string', demandOption: true, describe: 'directory to write the artifacts and manifest.json into (created; non-empty needs --force)' })
        .option('pid', { alias: 'p', type: 'number', describe: 'only what this process holds (leaves out SysV shm, the log and /dev/shm)' })
        .option('force', { type: 'boolean', default: false, describe: 'write into a non-empty directory, replacing files' }),
      'the recovered artifacts',
    )
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'with --yara: json prints the matches as JSON (instead of the summary and a line per match)' })
      .example('$0 recover checkpoint.tar --output-dir evidence/', 'every artifact, manifest in evidence/manifest.json')
      .example('$0 recover checkpoint.tar -o evidence/ --pid 1', "only pid 1's")
      .example('$0 recover checkpoint.tar -o evidence/ --yara rules.yar', 'and scan what was recovered with YARA rules'),
  handler: async (args) => {
    if (args.pid !== undefined && (!Number.isInteger(args.pid) || args.pid < 0)) throw new UsageError(`--pid must be a process id, not ${String(args.pid)}`);
    if (!args['output-dir']) throw new UsageError('--output-dir needs a directory');
    if (args.format === 'json' && !wantsYara(args)) throw new UsageError('option --format json needs --yara or --yara-rule (the manifest, manifest.json, is JSON already)');
    const rules = wantsYara(args) ? await compileYaraArgs(args) : undefined;
    if (typeof rules === 'string') return;
    const ck = await openCheckpoint(args.checkpoint);
    try {
      if (args.pid !== undefined && !ck.process(args.pid)) throw new UsageError(`no process with pid ${args.pid} in ${ck.label} (pids: ${ck.pids.join(', ')})`);
      const inputs = [args.checkpoint];
      const artifacts = await listArtifacts(ck, { pid: args.pid });
      const { dir, recovered } = await writeArtifacts(ck, artifacts, args['output-dir'], { force: args.force, inputs });
      const archiveSha256 = await hashFile(args.checkpoint);
      const manifest = `${dir}/manifest.json`;
      await writeAtomically(manifest, { inputs, force: args.force }, async (f) => {
        await f.write(`${jsonText(recoverManifest(args.checkpoint, archiveSha256, args.pid ?? null, recovered), 2)}\n`);
      });
      // paths as the user gave them
      if (args.format === 'text') await out(recoverSummary(args['output-dir'], join(args['output-dir'], 'manifest.json'), recovered));
      if (rules) {
        // the bytes written, read again from the checkpoint; a line per match as found
        const json: Record<string, unknown>[] = [];
        const colour = useColour();
        let n = 0;
        for await (const m of findArtifactMatches(ck, artifacts, rules.matcher)) {
          if (args.format === 'json') json.push(artifactMatchJson(m));
          else await out((n === 0 ? '\n' + fileMatchHeader({ colour, artifacts: true }) : '') + fileMatchLine(m, { colour }));
          n++;
        }
        if (args.format === 'json') await out(`${jsonText(json, 2)}\n`);
        else if (n === 0) await out(`\nNo matches for ${safe(rules.shown)} in the ${recovered.length} recovered artifact${recovered.length === 1 ? '' : 's'}\n`);
      }
      const bad = recovered.filter((r) => r.error !== null);
      warnProblems(ck.problems);
      if (bad.length) {
        const first = bad[0]!;
        throw new CkptError(`${first.file}: ${first.error}${bad.length > 1 ? ` (and ${bad.length - 1} more, see the manifest)` : ''}`, `${ck.label}:${first.artifact.member}`, first.artifact.offset ?? undefined);
      }
    } finally {
      await ck.close();
    }
  },
};
