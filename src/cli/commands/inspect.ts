import type { CommandModule } from 'yargs';
import {
  type Checkpoint,
  CkptError,
  collectInspectInput,
  type InspectInput,
  inspectJson,
  type InspectOptions,
  inspectTree,
  normaliseInspectOptions,
  openCheckpointFile,
  safe,
} from '../../node/index.js';
import { out, reportFailure, useColour, warnProblems } from '../io.js';
import { UsageError } from '../usage-error.js';

/**
 * One renderer per --format (its key is the choice): adding a format is one entry here. `each`
 * prints a checkpoint as soon as it is read (tree); `all` prints every checkpoint in one document
 * at the end (JSON).
 */
const RENDERERS: Record<'tree' | 'json', { each: (input: InspectInput, shown: InspectOptions) => string } | { all: (inputs: InspectInput[], o: InspectOptions) => string }> = {
  tree: { each: (input, shown) => inspectTree(input, shown) },
  json: { all: (inputs, o) => inspectJson(inputs, o) },
};
type InspectFormat = keyof typeof RENDERERS;

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
  format: InspectFormat;
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

/**
 * The options to show for `ck`: a --pid that is a thread's id means its process (said on stderr);
 * a pid that is neither is a usage error naming the valid pids.
 */
function optionsFor(ck: Checkpoint, o: InspectOptions): InspectOptions {
  if (!o.psTree || o.pid === undefined || ck.process(o.pid)) return o;
  const owner = ck.processOfThread(o.pid);
  if (!owner) throw new UsageError(`no process with pid ${o.pid} in ${ck.label} (pids: ${ck.pids.join(', ')})`);
  process.stderr.write(`ckpt: note: ${o.pid} is a thread of process ${owner.pid} in ${safe(ck.label)}: showing process ${owner.pid}\n`);
  return { ...o, pid: owner.pid };
}

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
      .option('pid', { alias: 'p', type: 'number', describe: 'only the process tree below this pid (implies --ps-tree; a thread id means its process)' })
      .option('format', { type: 'string', choices: Object.keys(RENDERERS) as InspectFormat[], default: 'tree' as InspectFormat, describe: 'output format' })
      .example('$0 inspect checkpoint.tar --ps-tree', 'the process tree')
      .example('$0 inspect checkpoint.tar --all --format json', "everything, as JSON with checkpointctl's field names")
      .example('$0 inspect checkpoint.tar --pid 9 --ps-tree-cmd --ps-tree-env', "one process's command line and environment"),
  handler: async (args) => {
    if (args.pid !== undefined && (!Number.isInteger(args.pid) || args.pid < 0)) throw new UsageError(`option --pid must be a process id, not ${String(args.pid)}`);
    const o = inspectOptions(args);
    const inputs: InspectInput[] = [];
    const several = args.checkpoint.length > 1;
    try {
      for (const path of args.checkpoint) {
        let ck: Checkpoint;
        try {
          // one pass over a compressed archive: the hash and the command lines read with the images
          ck = await openCheckpointFile(path, { hashArchive: o.metadata, arguments: o.psTree && (o.psTreeCmd || o.psTreeEnv) });
        } catch (e) {
          // one unreadable checkpoint does not hide the others: one line for it, exit 1 at the end
          if (!(e instanceof CkptError)) throw e;
          reportFailure(e.message);
          continue;
        }
        let kept = false;
        try {
          const shown = optionsFor(ck, o);
          const input = await collectInspectInput(ck, shown);
          if (shown.pid !== o.pid) input.pid = shown.pid;
          const render = RENDERERS[args.format];
          if ('each' in render) {
            await out(render.each(input, shown));
            warnProblems(ck.problems, several ? ck.label : undefined);
          } else {
            inputs.push(input);
            kept = true;
          }
        } catch (e) {
          if (!(e instanceof CkptError)) throw e;
          reportFailure(e.message);
        } finally {
          if (!kept) await ck.close();
        }
      }
      const render = RENDERERS[args.format];
      if ('all' in render) {
        const text = render.all(inputs, o);
        for (const i of inputs) warnProblems(i.checkpoint.problems, several ? i.checkpoint.label : undefined);
        await out(text);
      }
    } finally {
      for (const i of inputs) await i.checkpoint.close();
    }
  },
};
