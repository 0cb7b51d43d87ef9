import type { CommandModule } from 'yargs';
import { openCheckpointFile } from '../../node/index.js';
import { showTable, type ShowRow } from '../../views/index.js';
import { out, useColour } from '../io.js';

interface ShowArgs {
  checkpoint: string[];
}

export const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <checkpoint..>',
  describe: 'Show an overview of container checkpoints as a table: container, image, ID, runtime, created, engine, sizes',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', array: true, demandOption: true, describe: 'checkpoint archives (.tar, gzip or zstd) or checkpoint/image directories' })
      .example('$0 show checkpoint.tar', 'one checkpoint')
      .example('$0 show /var/lib/kubelet/checkpoints/*.tar', 'one row per checkpoint'),
  handler: async (args) => {
    const rows: ShowRow[] = [];
    for (const path of args.checkpoint) {
      const ck = await openCheckpointFile(path, { metadataOnly: true });
      try {
        rows.push({ label: ck.label, container: ck.container, sizes: ck.sizes });
      } finally {
        await ck.close();
      }
    }
    await out(showTable(rows, { colour: useColour() }));
  },
};
