import type { CommandModule } from 'yargs';
import { hashLines, openCheckpointFile, showTable, type ShowRow } from '../../node/index.js';
import { out, useColour } from '../io.js';

interface ShowArgs {
  checkpoint: string[];
  hash: boolean;
}

export const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <checkpoint..>',
  describe: 'Show an overview of container checkpoints as a table: container, image, ID, runtime, created, engine, sizes',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', array: true, demandOption: true, describe: 'checkpoint archives (.tar, gzip or zstd) or checkpoint/image directories' })
      .option('hash', { type: 'boolean', default: false, describe: "also print each archive's SHA-256 (sha256sum format), computed in the same pass" })
      .example('$0 show checkpoint.tar', 'one checkpoint')
      .example('$0 show checkpoint.tar --hash', 'with the SHA-256 of the archive')
      .example('$0 show /var/lib/kubelet/checkpoints/*.tar', 'one row per checkpoint'),
  handler: async (args) => {
    const rows: ShowRow[] = [];
    for (const path of args.checkpoint) {
      const ck = await openCheckpointFile(path, { metadataOnly: true, hashArchive: args.hash });
      try {
        const row: ShowRow = { label: ck.label, container: ck.container, sizes: ck.sizes };
        if (args.hash) row.sha256 = (await ck.source.archiveSha256?.()) ?? null;
        rows.push(row);
      } finally {
        await ck.close();
      }
    }
    await out(showTable(rows, { colour: useColour() }) + (args.hash ? `\n${hashLines(rows)}` : ''));
  },
};
