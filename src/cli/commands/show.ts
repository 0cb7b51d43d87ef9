import type { CommandModule } from 'yargs';
import { CkptError, hashLines, openCheckpointFile, showJson, type ShowRow, showTable } from '../../node/index.js';
import { out, reportFailure, useColour, warnProblems } from '../io.js';

interface ShowView {
  rows: ShowRow[];
  /** more than one checkpoint: a FILE column */
  several: boolean;
  hash: boolean;
}

/** One renderer per --format (its key is the choice): adding a format is one entry here. */
const RENDERERS = {
  table: (v: ShowView) => (v.rows.length ? showTable(v.rows, { colour: useColour(), fileColumn: v.several }) + (v.hash ? `\n${hashLines(v.rows)}` : '') : ''),
  json: (v: ShowView) => showJson(v.rows),
};
type ShowFormat = keyof typeof RENDERERS;

interface ShowArgs {
  checkpoint: string[];
  hash: boolean;
  format: ShowFormat;
}

export const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <checkpoint..>',
  describe: 'Show an overview of container checkpoints as a table: container, image, ID, runtime, created, engine, sizes',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', array: true, demandOption: true, describe: 'checkpoint archives (.tar, gzip or zstd) or checkpoint/image directories' })
      .option('hash', { type: 'boolean', default: false, describe: "also print each archive's SHA-256 (sha256sum format), computed in the same pass" })
      .option('format', { type: 'string', choices: Object.keys(RENDERERS) as ShowFormat[], default: 'table' as ShowFormat, describe: 'output format' })
      .example('$0 show checkpoint.tar', 'one checkpoint')
      .example('$0 show checkpoint.tar --hash', 'with the SHA-256 of the archive')
      .example('$0 show /var/lib/kubelet/checkpoints/*.tar', 'one row per checkpoint (a FILE column says which)'),
  handler: async (args) => {
    const rows: ShowRow[] = [];
    const several = args.checkpoint.length > 1;
    for (const path of args.checkpoint) {
      try {
        const ck = await openCheckpointFile(path, { metadataOnly: true, hashArchive: args.hash });
        try {
          const row: ShowRow = { label: ck.label, container: ck.container, sizes: ck.sizes };
          if (args.hash) row.sha256 = (await ck.source.archiveSha256?.()) ?? null;
          rows.push(row);
          warnProblems(ck.problems, several ? ck.label : undefined);
        } finally {
          await ck.close();
        }
      } catch (e) {
        // one unreadable checkpoint does not hide the others: one line for it, exit 1 at the end
        if (!(e instanceof CkptError)) throw e;
        reportFailure(e.message);
      }
    }
    const text = RENDERERS[args.format]({ rows, several, hash: args.hash });
    if (text) await out(text);
  },
};
