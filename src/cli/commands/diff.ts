import type { CommandModule } from 'yargs';
import { type CheckpointDiff, diffCheckpoints, type DiffInput, diffJson, diffTree, type DiffViewOptions, nodeSha256, openForDiff, openSource } from '../../node/index.js';
import { out, useColour } from '../io.js';

/** One renderer per --format (its key is the choice): adding a format is one entry here. */
const RENDERERS = {
  tree: (d: CheckpointDiff, o: DiffViewOptions) => diffTree(d, { ...o, colour: useColour() }),
  json: (d: CheckpointDiff, o: DiffViewOptions) => diffJson(d, o),
};
type DiffFormat = keyof typeof RENDERERS;

interface DiffArgs {
  a: string;
  b: string;
  format: DiffFormat;
  'ps-tree-cmd': boolean;
  'ps-tree-env': boolean;
  files: boolean;
  sockets: boolean;
  'show-unchanged': boolean;
}

async function open(path: string): Promise<DiffInput> {
  const source = await openSource(path);
  try {
    return await openForDiff(source, { sha256: nodeSha256 });
  } catch (e) {
    await source.close();
    throw e;
  }
}

export const diffCommand: CommandModule<object, DiffArgs> = {
  command: 'diff <a> <b>',
  describe: 'Show what changed between two checkpoints: processes, files, sockets, mounts, memory pages, root file system, statistics',
  builder: (y) =>
    y
      .positional('a', { type: 'string', demandOption: true, describe: 'the earlier checkpoint (archive or directory)' })
      .positional('b', { type: 'string', demandOption: true, describe: 'the later checkpoint' })
      .option('format', { type: 'string', choices: Object.keys(RENDERERS) as DiffFormat[], default: 'tree' as DiffFormat, describe: 'output format' })
      .option('ps-tree-cmd', { type: 'boolean', default: false, describe: 'show command lines (read from memory) and command-line changes' })
      .option('ps-tree-env', { type: 'boolean', default: false, describe: 'show environment variables added, removed and changed' })
      .option('files', { type: 'boolean', default: false, describe: 'open files: opened, closed, moved (position, size, flags)' })
      .option('sockets', { type: 'boolean', default: false, describe: 'sockets: new, closed, state and queued-byte changes' })
      .option('show-unchanged', { type: 'boolean', default: false, describe: 'also list what is the same in both' })
      .example('$0 diff before.tar after.tar', 'processes, memory pages, mounts, root file system, statistics')
      .example('$0 diff before.tar after.tar --files --sockets --ps-tree-env', 'and open files, sockets, environments')
      .example('$0 diff before.tar after.tar --format json', 'as JSON'),
  handler: async (args) => {
    const a = await open(args.a);
    try {
      const b = await open(args.b);
      try {
        const d = await diffCheckpoints(a, b);
        const o = { psTreeCmd: args['ps-tree-cmd'], psTreeEnv: args['ps-tree-env'], files: args.files, sockets: args.sockets, showUnchanged: args['show-unchanged'], colour: false };
        await out(RENDERERS[args.format](d, o));
      } finally {
        await b.checkpoint.close();
      }
    } finally {
      await a.checkpoint.close();
    }
  },
};
