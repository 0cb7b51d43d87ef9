import type { CommandModule } from 'yargs';
import { critJsonChunks, decodeImages, imageName, openSource } from '../../node/index.js';
import { out } from '../io.js';

interface DecodeArgs {
  checkpoint: string;
  image?: string[];
  pretty: boolean;
  numeric: boolean;
  'crit-task-names': boolean;
}

export const decodeCommand: CommandModule<object, DecodeArgs> = {
  command: 'decode <checkpoint> [image..]',
  describe: 'Decode CRIU images to JSON, as `crit decode` does (a checkpoint archive, an image directory or one .img file)',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint archive (.tar, gzip or zstd), image directory, or .img file' })
      .positional('image', { type: 'string', array: true, describe: 'images to decode, e.g. pstree.img or core-1 (default: every protobuf image)' })
      .option('pretty', { type: 'boolean', default: false, describe: 'indent the JSON like `crit decode --pretty`' })
      .option('numeric', { type: 'boolean', default: false, describe: 'plain numbers instead of hex, flag names, devices and IP text (what `crit decode` prints without --pretty)' })
      .option('crit-task-names', { type: 'boolean', default: false, describe: "name task_state 3 \"Zombie\" and 6 \"Stopped\" as crit 4.2 does (wrongly: CRIU's 3 is stopped, 6 zombie)" })
      .example('$0 decode checkpoint.tar pstree.img --pretty', "the process tree image, as crit prints it")
      .example('$0 decode checkpoint.tar', 'every protobuf image, as one JSON object keyed by image name'),
  handler: async (args) => {
    const source = await openSource(args.checkpoint);
    try {
      const decoded = await decodeImages(source, args.image ?? [], { pretty: !args.numeric, critTaskStateNames: args['crit-task-names'] });
      const single = decoded.size === 1 && ((args.image?.length ?? 0) === 1 || (await source.entries()).filter((e) => e.path.endsWith('.img') || /(^|\/)stats-(dump|restore)$/.test(e.path)).length === 1);
      const value = single ? [...decoded.values()][0] : Object.fromEntries([...decoded].map(([k, v]) => [imageName(k) ?? k, v]));
      // the text in pieces as it is made (an image of a million entries is never one string)
      for (const piece of critJsonChunks(value, args.pretty)) await out(piece);
      await out('\n');
    } finally {
      await source.close();
    }
  },
};
