import type { CommandModule } from 'yargs';
import * as path from 'node:path';
import { checkpointFiles, CkptError, type ListEntry, listJson, listTable, openCheckpointFile } from '../../node/index.js';
import { out, reportFailure, useColour, warnProblems } from '../io.js';

export const DEFAULT_CHECKPOINT_DIR = '/var/lib/kubelet/checkpoints';

type ListGroups = { directory: string; entries: ListEntry[] }[];
/** One renderer per --format (its key is the choice): adding a format is one entry here. */
const RENDERERS = {
  table: (groups: ListGroups) => listTable(groups, { colour: useColour() }),
  json: (groups: ListGroups) => listJson(groups),
};
type ListFormat = keyof typeof RENDERERS;

interface ListArgs {
  directory?: string[];
  format: ListFormat;
}

export const listCommand: CommandModule<object, ListArgs> = {
  command: 'list [directory..]',
  describe: `List the checkpoints (checkpoint-* files) in directories (default ${DEFAULT_CHECKPOINT_DIR})`,
  builder: (y) =>
    y
      .positional('directory', { type: 'string', array: true, describe: `directories to look in (default ${DEFAULT_CHECKPOINT_DIR})` })
      .option('format', { type: 'string', choices: Object.keys(RENDERERS) as ListFormat[], default: 'table' as ListFormat, describe: 'output format' })
      .example('$0 list', `the checkpoints the kubelet wrote to ${DEFAULT_CHECKPOINT_DIR}`)
      .example('$0 list /tmp/checkpoints /srv/archive', 'other directories'),
  handler: async (args) => {
    const dirs = args.directory?.length ? args.directory : [DEFAULT_CHECKPOINT_DIR];
    const groups: { directory: string; entries: ListEntry[] }[] = [];
    for (const dir of dirs) {
      const names = await checkpointFiles(dir);
      if (names === undefined && args.directory?.length) throw new CkptError('no such directory', dir);
      const entries: ListEntry[] = [];
      for (const name of names ?? []) {
        try {
          const ck = await openCheckpointFile(path.join(dir, name), { metadataOnly: true });
          try {
            entries.push({ name, container: ck.container });
            warnProblems(ck.problems, ck.label);
          } finally {
            await ck.close();
          }
        } catch (e) {
          if (!(e instanceof CkptError)) throw e;
          // one unreadable archive does not hide the others: report it, go on, exit 1 at the end
          reportFailure(e.message);
        }
      }
      groups.push({ directory: dir, entries });
    }
    await out(RENDERERS[args.format](groups));
  },
};
