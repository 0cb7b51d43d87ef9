import type { CommandModule } from 'yargs';
import { join } from 'node:path';
import {
  extractRootfs,
  fileMatchHeader,
  fileMatchJson,
  fileMatchLine,
  findRootfsMatches,
  hashFile,
  openCheckpointFile as openCheckpoint,
  ROOTFS_SUBDIR,
  ROOTFS_DIFF_MEMBER,
  rootfsDeletionJson,
  rootfsEntryJson,
  rootfsJson,
  type RootfsChanges,
  rootfsTree,
  safe,
  writeAtomically,
  jsonText,
} from '../../node/index.js';
import { out, useColour, warnProblems } from '../io.js';
import { UsageError } from '../usage-error.js';
import { compileYaraArgs, wantsYara, yaraOptions, type YaraArgs } from '../yara-options.js';

/** The listing's renderer per --format (its key is the choice): adding a format is one entry here. */
const RENDERERS = {
  tree: (label: string, changes: RootfsChanges) => rootfsTree(label, changes, { colour: useColour() }),
  json: (label: string, changes: RootfsChanges) => `${jsonText(rootfsJson(label, changes), 2)}\n`,
};
type RootfsFormat = keyof typeof RENDERERS;

interface RootfsArgs extends YaraArgs {
  checkpoint: string;
  format: RootfsFormat;
  cat?: string;
  extract?: string;
  force: boolean;
}

export const rootfsCommand: CommandModule<object, RootfsArgs> = {
  command: 'rootfs <checkpoint>',
  describe: 'What the container changed on its root file system (rootfs-diff.tar, deleted files): list, print one file, or extract safely',
  builder: (y) =>
    yaraOptions(
      y
        .positional('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint archive (.tar, gzip or zstd) or checkpoint directory' })
        .option('format', { type: 'string', choices: Object.keys(RENDERERS) as RootfsFormat[], default: 'tree' as RootfsFormat, describe: 'output format of the listing (with --yara: tree is a line per match)' })
        .option('cat', { type: 'string', describe: "write one file's bytes to stdout (its path in the container, e.g. /etc/motd)" })
        .option('extract', { type: 'string', describe: 'extract the changes into DIR/rootfs (safely: nothing outside DIR, no devices, no setuid) with DIR/manifest.json' })
        .option('force', { type: 'boolean', default: false, describe: 'write into a non-empty DIR, replacing files' }),
      'the changed files',
    )
      .conflicts('cat', ['extract', 'yara', 'yara-rule'])
      .conflicts('extract', ['yara', 'yara-rule'])
      .example('$0 rootfs checkpoint.tar', 'the changed files, by directory, with modes, owners and hashes')
      .example('$0 rootfs checkpoint.tar --cat /etc/motd', 'one file to stdout')
      .example('$0 rootfs checkpoint.tar --extract evidence/', 'the changed files under evidence/rootfs, manifest in evidence/manifest.json')
      .example('$0 rootfs checkpoint.tar --yara rules.yar', 'scan the changed files with YARA rules: path, offset, rule, string and the bytes matched'),
  handler: async (args) => {
    if (args.cat !== undefined && args.cat === '') throw new UsageError('--cat needs a path, e.g. --cat /etc/motd');
    if (args.extract !== undefined && args.extract === '') throw new UsageError('--extract needs a directory');
    const rules = wantsYara(args) ? await compileYaraArgs(args) : undefined;
    if (typeof rules === 'string') return;
    const ck = await openCheckpoint(args.checkpoint);
    try {
      if (rules) {
        // a line per match as found (JSON: the array once the scan is done)
        const json: Record<string, unknown>[] = [];
        let n = 0;
        const colour = useColour();
        for await (const m of findRootfsMatches(ck, rules.matcher)) {
          if (args.format === 'json') json.push(fileMatchJson(m));
          else await out((n === 0 ? fileMatchHeader({ colour }) : '') + fileMatchLine(m, { colour }));
          n++;
        }
        if (args.format === 'json') await out(`${jsonText(json, 2)}\n`);
        else if (n === 0) await out(`No matches for ${safe(rules.shown)} in the changed files of ${safe(ck.label)}\n`);
      } else if (args.cat !== undefined) {
        for await (const chunk of ck.rootfsFile(args.cat)) await out(chunk.slice()); // stdout may keep the chunk queued
      } else if (args.extract !== undefined) {
        const inputs = [args.checkpoint];
        const r = await extractRootfs(ck, args.extract, { force: args.force, inputs });
        const manifest = `${r.dir}/manifest.json`;
        const archiveSha256 = await hashFile(args.checkpoint);
        await writeAtomically(manifest, { inputs, force: args.force }, async (f) => {
          const body = {
            kind: 'rootfs',
            checkpoint: args.checkpoint,
            archiveSha256,
            member: ROOTFS_DIFF_MEMBER,
            entries: r.entries.map((x) => ({ ...rootfsEntryJson(x.entry), written: x.written, skipped: x.skipped, hostile: x.hostile })),
            deleted: r.deleted.map(rootfsDeletionJson),
          };
          await f.write(`${jsonText(body, 2)}\n`);
        });
        const written = r.entries.filter((x) => x.written !== null).length;
        const shown = args.extract; // paths as the user gave them
        const lines = [`extracted ${written} of ${r.entries.length} entries into ${safe(join(shown, ROOTFS_SUBDIR))}`, `manifest: ${safe(join(shown, 'manifest.json'))}`];
        for (const x of r.entries.filter((x) => x.skipped !== null && !x.hostile)) lines.push(`skipped ${safe(x.entry.path)}: ${safe(x.skipped!)}`);
        await out(`${lines.join('\n')}\n`);
        for (const x of r.entries.filter((x) => x.hostile)) ck.noteProblem({ kind: 'damaged', file: ROOTFS_DIFF_MEMBER, offset: x.entry.offset, message: `${x.entry.name}: ${x.skipped}` });
      } else {
        const changes = await ck.rootfsChanges();
        await out(RENDERERS[args.format](ck.label, changes));
      }
      warnProblems(ck.problems);
    } finally {
      await ck.close();
    }
  },
};
