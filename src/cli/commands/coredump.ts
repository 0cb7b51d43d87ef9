import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import {
  byteSize,
  checkCoreable,
  CkptError,
  type CoreReport,
  imageMember,
  ImageSet,
  type MappedFileSource,
  openCheckpointFile,
  openSource,
  outputPathInside,
  type ParentImages,
  prepareOutputDir,
  type Process,
  rootfsDirectory,
  safe,
  writeAtomically,
  writeCore,
} from '../../node/index.js';
import { out } from '../io.js';
import { UsageError } from '../usage-error.js';

interface CoredumpArgs {
  checkpoint: string;
  pid?: number;
  all?: boolean;
  output: string;
  rootfs?: string;
  parent?: string;
  force: boolean;
}

const EXIT_PARTIAL = 4;

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

export const coredumpCommand: CommandModule<object, CoredumpArgs> = {
  command: 'coredump <checkpoint>',
  describe: 'Write an ELF core file of a checkpointed process (x86_64), for gdb, eu-stack and other ELF tools',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint archive (.tar, gzip or zstd) or checkpoint/image directory' })
      .option('pid', { alias: 'p', type: 'number', describe: 'the process to dump (a pid of the checkpoint)' })
      .option('all', { type: 'boolean', describe: 'one core per process, written as DIR/core.<pid> (-o names the directory)' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'the core file (with --all: the directory for the cores)' })
      .option('rootfs', { type: 'string', describe: "the container image's root directory (e.g. from `podman image mount`): file-backed pages CRIU did not dump are read from it" })
      .option('parent', { type: 'string', describe: 'the parent (pre-dump) image directory, for pages the checkpoint keeps in its parent' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing core file / write into a non-empty directory' })
      .conflicts('pid', 'all')
      .example('$0 coredump checkpoint.tar --pid 1 -o core.1', 'a core of process 1')
      .example('$0 coredump checkpoint.tar --pid 1 -o core.1 --rootfs "$(podman image mount IMAGE)"', 'with the pages of unmodified files filled from the image')
      .example('$0 coredump checkpoint.tar --all -o cores/', 'a core per process'),
  handler: async (args) => {
    if (args.pid === undefined && !args.all) throw new UsageError('name the process with --pid N, or use --all');
    if (args.pid !== undefined && (!Number.isInteger(args.pid) || args.pid < 1)) throw new UsageError(`--pid must be a process id, not ${args.pid}`);
    const inputs = [args.checkpoint, ...(args.rootfs ? [args.rootfs] : []), ...(args.parent ? [args.parent] : [])];
    const files: MappedFileSource[] = [];
    if (args.rootfs !== undefined) files.push(await rootfsDirectory(args.rootfs));
    const cp = await openCheckpointFile(args.checkpoint);
    let parentSource: Awaited<ReturnType<typeof openSource>> | undefined;
    try {
      let parent: ParentImages | undefined;
      if (args.parent !== undefined) {
        parentSource = await openSource(args.parent);
        const images = await ImageSet.load(parentSource);
        parent = {
          source: parentSource,
          pagemap: (pid) => {
            const img = images.image(`pagemap-${pid}.img`);
            return img ? { file: img.file, entries: img.entries } : undefined;
          },
        };
      }
      let targets: { process: Process; path: string; shown: string }[];
      if (args.all) {
        const dir = await prepareOutputDir(args.output, { force: args.force, inputs });
        targets = [];
        for (const p of cp.processes) {
          try {
            checkCoreable(cp, p);
          } catch (e) {
            if (!(e instanceof CkptError)) throw e;
            process.stderr.write(`ckpt: note: pid ${p.pid} (${safe(p.comm)}) skipped: ${e.reason}\n`);
            continue;
          }
          targets.push({ process: p, path: await outputPathInside(dir, `core.${p.pid}`), shown: join(args.output, `core.${p.pid}`) });
        }
      } else {
        const p = cp.process(args.pid!);
        if (!p) throw new UsageError(`--pid ${args.pid}: no such process in ${args.checkpoint} (pids: ${cp.pids.join(', ')})`);
        targets = [{ process: p, path: args.output, shown: args.output }];
      }
      let partial = false;
      for (const t of targets) {
        const report = await writeAtomically(t.path, { force: args.force, inputs }, (file) => writeCore(t.process, file, { checkpoint: cp, files, parent }));
        await out(summary(t.shown, report));
        for (const line of gapLines(t.shown, report, args.rootfs !== undefined)) {
          if (line.partial) partial = true;
          process.stderr.write(`${line.text}\n`);
        }
      }
      for (const p of cp.problems) {
        partial = true;
        process.stderr.write(`ckpt: warning: ${safe(p.file)}${p.offset !== null ? ` at byte ${p.offset}` : ''}: ${safe(p.message)}\n`);
      }
      if (partial) process.exitCode = EXIT_PARTIAL;
    } finally {
      await parentSource?.close();
      await cp.close();
    }
  },
};

function summary(path: string, r: CoreReport): string {
  const threads = `${r.threads.length} thread${r.threads.length === 1 ? '' : 's'}`;
  const files = Object.entries(r.fileBytes)
    .map(([label, n]) => `, ${byteSize(n)} of file pages from ${label}`)
    .join('');
  return `${safe(path)}: pid ${r.pid} (${safe(r.comm)}), ${threads}, ${r.segments} memory segments, ${byteSize(r.size)} (${byteSize(r.pageBytes)} of pages from the checkpoint${files})\n`;
}

/** One line per file whose pages are left out, and one per kind of missing pages. */
function gapLines(path: string, r: CoreReport, haveRootfs: boolean): { text: string; partial: boolean }[] {
  const groups = new Map<string, { bytes: bigint; ranges: string[]; path?: string; reason: string }>();
  for (const g of r.gaps) {
    const key = `${g.reason}\0${g.path ?? ''}`;
    let e = groups.get(key);
    if (!e) groups.set(key, (e = { bytes: 0n, ranges: [], path: g.path, reason: g.reason }));
    e.bytes += g.end - g.start;
    e.ranges.push(`${hex(g.start)}-${hex(g.end)}`);
  }
  const out: { text: string; partial: boolean }[] = [];
  for (const e of groups.values()) {
    const size = byteSize(Number(e.bytes));
    const where = e.ranges.length > 3 ? `${e.ranges.slice(0, 3).join(', ')} and ${e.ranges.length - 3} more` : e.ranges.join(', ');
    if (e.reason === 'file not available') {
      const hint = haveRootfs ? 'not in the checkpoint nor in --rootfs' : 'not in the checkpoint (give --rootfs)';
      out.push({ text: `ckpt: note: ${safe(path)}: pid ${r.pid}: ${size} of ${safe(e.path ?? '')} ${hint}: left out of the core, gdb reads them from the file under 'set sysroot' (${where})`, partial: false });
    } else {
      const what = e.reason === 'lazy' ? 'lazy pages (kept by a page server, not in the images)' : e.reason === 'damaged' ? 'pages lost where the archive is cut short or damaged' : 'pages kept in the parent images (give --parent DIR)';
      out.push({ text: `ckpt: warning: ${imageMember(`pagemap-${r.pid}.img`)}: pid ${r.pid}: ${size} of ${what} missing: holes in ${safe(path)} (${where})`, partial: true });
    }
  }
  return out;
}
