import type { CommandModule } from 'yargs';
import { openCheckpointFile } from '../../node/index.js';
import type { Checkpoint } from '../../model/checkpoint.js';
import type { Process } from '../../model/types.js';
import { subtreeProcesses } from '../../model/processes.js';
import { artifactPreviews } from '../../model/evidence.js';
import { inspectJson, inspectTree, normaliseInspectOptions, selectRoots, type InspectInput, type InspectOptions } from '../../views/index.js';
import { CkptError } from '../../errors.js';
import { safe } from '../../views/format.js';
import { out, reportFailure, useColour, warnProblems } from '../io.js';
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

function subtreePids(roots: Process[]): number[] {
  return subtreeProcesses(roots).map((p) => p.pid);
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

/** Gathers what the views need from one checkpoint: argv/env from memory only when asked. */
export async function collectInspectInput(ck: Checkpoint, o: InspectOptions): Promise<InspectInput> {
  const input: InspectInput = { checkpoint: ck };
  if (o.psTree) {
    if (o.pid !== undefined && !ck.process(o.pid)) {
      const owner = ck.processOfThread(o.pid);
      if (owner) {
        process.stderr.write(`ckpt: note: ${o.pid} is a thread of process ${owner.pid} in ${safe(ck.label)}: showing process ${owner.pid}\n`);
        o = { ...o, pid: owner.pid };
        input.pid = owner.pid;
      }
    }
    const roots = selectRoots(ck, o.pid);
    if (!roots) throw new UsageError(`no process with pid ${o.pid} in ${ck.label} (pids: ${ck.pids.join(', ')})`);
    if (o.psTreeCmd || o.psTreeEnv) input.arguments = await ck.arguments(subtreePids(roots));
  }
  if (o.files || o.sockets) input.previews = await artifactPreviews(ck);
  if (o.metadata) input.archiveSha256 = (await ck.source.archiveSha256?.()) ?? null;
  // compute every lazily built part now, so that problems are known before anything is printed
  void ck.container;
  void ck.sizes;
  if (o.stats) void ck.statistics;
  if (o.psTree) void ck.processes;
  if (o.files) void ck.processesWithFiles;
  if (o.sockets) void ck.sockets;
  if (o.mounts) void ck.mounts;
  return input;
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
      .option('format', { type: 'string', choices: ['tree', 'json'] as const, default: 'tree' as const, describe: 'output format' })
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
          ck = await openCheckpointFile(path, { hashArchive: o.metadata });
        } catch (e) {
          // one unreadable checkpoint does not hide the others: one line for it, exit 1 at the end
          if (!(e instanceof CkptError)) throw e;
          reportFailure(e.message);
          continue;
        }
        let kept = false;
        try {
          const input = await collectInspectInput(ck, o);
          const shown = input.pid !== undefined ? { ...o, pid: input.pid } : o;
          if (args.format === 'json') {
            inputs.push(input);
            kept = true;
          } else {
            await out(inspectTree(input, shown));
            warnProblems(ck.problems, several ? ck.label : undefined);
          }
        } catch (e) {
          if (!(e instanceof CkptError)) throw e;
          reportFailure(e.message);
        } finally {
          if (!kept) await ck.close();
        }
      }
      if (args.format === 'json') {
        const text = inspectJson(inputs, o);
        for (const i of inputs) warnProblems(i.checkpoint.problems, several ? i.checkpoint.label : undefined);
        await out(text);
      }
    } finally {
      for (const i of inputs) await i.checkpoint.close();
    }
  },
};
