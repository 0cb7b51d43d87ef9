import type { CommandModule } from 'yargs';
import { collectInspectInput, inspectJson, inspectTree, normaliseInspectOptions, openCheckpointFile, type InspectInput, type InspectOptions } from '../../node/index.js';
import { out, useColour } from '../io.js';
import { UsageError } from '../usage-error.js';

interface InspectArgs {
  checkpoint: string[];
  'ps-tree': boolean;
  'ps-tree-cmd': boolean;
  'ps-tree-env': boolean;
  files: boolean;
  sockets: boolean;
  mounts: boolean;
  stats: boolean;
  metadata: boolean;
  all: boolean;
  pid?: number;
  format: 'tree' | 'json';
}

export function inspectOptions(args: InspectArgs): InspectOptions {
  const all = args.all;
  return normaliseInspectOptions({
    psTree: args['ps-tree'] || all,
    psTreeCmd: args['ps-tree-cmd'] || all,
    psTreeEnv: args['ps-tree-env'] || all,
    files: args.files || all,
    sockets: args.sockets || all,
    mounts: args.mounts || all,
    stats: args.stats || all,
    metadata: args.metadata || all,
    pid: args.pid,
    colour: args.format === 'tree' && useColour(),
  });
}

/** How each --format prints: `one` checkpoint as soon as it is read, or `all` of them at the end. */
const RENDERERS: Record<InspectArgs['format'], { one?: (input: InspectInput, o: InspectOptions) => string; all?: (inputs: InspectInput[], o: InspectOptions) => string }> = {
  tree: { one: inspectTree },
  json: { all: inspectJson },
};

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <checkpoint..>',
  describe: 'Display low-level information about container checkpoints: processes, files, sockets, mounts, statistics',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', array: true, demandOption: true, describe: 'checkpoint archives (.tar, gzip or zstd) or checkpoint/image directories' })
      .option('ps-tree', { type: 'boolean', default: false, describe: 'the process tree: pids, names, states, threads, credentials' })
      .option('ps-tree-cmd', { type: 'boolean', default: false, describe: "the process tree with each process's full command line, read from its memory" })
      .option('ps-tree-env', { type: 'boolean', default: false, describe: "the process tree with each process's environment, read from its memory" })
      .option('files', { type: 'boolean', default: false, describe: 'open files of each process (fd, type, path, flags, position, deleted, peers), cwd and root' })
      .option('sockets', { type: 'boolean', default: false, describe: 'sockets of each process (inet addresses and ports, unix paths and peers, queued bytes)' })
      .option('mounts', { type: 'boolean', default: false, describe: "mounts from the OCI spec and CRIU's mount namespace image" })
      .option('stats', { type: 'boolean', default: false, describe: "CRIU's dump statistics" })
      .option('metadata', { type: 'boolean', default: false, describe: 'pod, namespace, annotations (JSON-valued ones expanded), deleted files' })
      .option('all', { type: 'boolean', default: false, describe: 'everything above' })
      .option('pid', { alias: 'p', type: 'number', describe: 'only the process tree below this pid (implies --ps-tree)' })
      .option('format', { type: 'string', choices: ['tree', 'json'] as const, default: 'tree' as const, describe: 'output format' })
      .example('$0 inspect checkpoint.tar --ps-tree', 'the process tree')
      .example('$0 inspect checkpoint.tar --all --format json', "everything, as JSON with checkpointctl's field names")
      .example('$0 inspect checkpoint.tar --pid 9 --ps-tree-cmd --ps-tree-env', "one process's command line and environment"),
  handler: async (args) => {
    if (args.pid !== undefined && (!Number.isInteger(args.pid) || args.pid < 0)) throw new UsageError(`--pid must be a process id, not ${String(args.pid)}`);
    const o = inspectOptions(args);
    const render = RENDERERS[args.format];
    const inputs: InspectInput[] = [];
    try {
      for (const path of args.checkpoint) {
        const ck = await openCheckpointFile(path, { hashArchive: o.metadata });
        let kept = false;
        try {
          if (o.psTree && !ck.subtree(o.pid)) throw new UsageError(`no process with pid ${o.pid} in ${ck.label} (pids: ${ck.pids.join(', ')})`);
          const input = await collectInspectInput(ck, o);
          if (render.one) await out(render.one(input, o));
          else {
            inputs.push(input);
            kept = true;
          }
        } finally {
          if (!kept) await ck.close();
        }
      }
      if (render.all) await out(render.all(inputs, o));
    } finally {
      for (const i of inputs) await i.checkpoint.close();
    }
  },
};
