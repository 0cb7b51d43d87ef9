import type { CommandModule } from 'yargs';
import { openSource } from '../../node/index.js';
import { CkptError } from '../../errors.js';
import { ImageSet } from '../../model/image-set.js';
import {
  CheckpointMemory,
  compileRegex,
  memoryMaps,
  parseAddressFilter,
  parseHex,
  parseProtFilter,
  parseRegionKinds,
  REGION_KINDS,
  searchCheckpoint,
  type MapsFilter,
  type ProcessMemory,
} from '../../model/memory/index.js';
import { workerRegexRunner } from '../../node/regex-worker.js';
import { stringifyJson } from '../../images/index.js';
import { Hexdump } from '../../views/hexdump.js';
import { mapsJson, mapsTable, mapsTree, matchHeader, matchJson, matchLine, memoryRows, memoryTable, memoryTableJson, missingLine, regionHeader, regionsJson } from '../../views/memparse.js';
import { fileWriter, out, useColour } from '../io.js';
import { UsageError } from '../usage-error.js';

interface MemparseArgs {
  checkpoint: string;
  pid?: number;
  output?: string;
  search?: string;
  'search-regex'?: string;
  'search-hex'?: string;
  'ignore-case': boolean;
  context: number;
  format: 'text' | 'table' | 'tree' | 'json';
  maps: boolean;
  prot?: string;
  region?: string[];
  address?: string;
  'page-size': number;
  'max-match': number;
  'max-matches'?: number;
  'regex-timeout': number;
}

/** Bytes of memory per piece of the dump (about 5.5 MB of text). */
const DUMP_BLOCK = 1 << 20;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export const memparseCommand: CommandModule<object, MemparseArgs> = {
  command: 'memparse <checkpoint>',
  describe: 'Analyse the memory of a checkpoint: sizes per process, a hexdump of one process, or a search of every process and of shared memory',
  builder: (y) =>
    y
      .positional('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint archive (.tar, gzip or zstd) or checkpoint/image directory' })
      .option('pid', { alias: 'p', type: 'number', describe: 'a hexdump of this process, region by region (with a search: search only this process)' })
      .option('output', { alias: 'o', type: 'string', describe: 'write to this file instead of stdout (the dump is then written in full, without * lines)' })
      .option('search', { alias: 's', type: 'string', describe: 'search memory for this string (UTF-8 bytes)' })
      .option('search-regex', { alias: 'r', type: 'string', describe: 'search memory for this regular expression (JavaScript syntax, over bytes as latin1)' })
      .option('search-hex', { alias: 'x', type: 'string', describe: 'search memory for these bytes, e.g. "de ad be ef"' })
      .option('ignore-case', { alias: 'i', type: 'boolean', default: false, describe: 'case-insensitive --search / --search-regex' })
      .option('context', { alias: 'c', type: 'number', default: 0, describe: 'bytes of memory to show before and after each match' })
      .option('maps', { type: 'boolean', default: false, describe: 'list the memory regions of every process (or --pid), like /proc/PID/maps, with the pages in the checkpoint' })
      .option('prot', { type: 'string', describe: 'with --maps: regions with at least these permissions, e.g. rwx, wx, rw-s' })
      .option('region', { type: 'string', array: true, describe: `with --maps: regions of these kinds (${REGION_KINDS.join(', ')})` })
      .option('address', { type: 'string', describe: 'with --maps: the region holding address A, or regions overlapping A-B (hex)' })
      .option('format', { choices: ['text', 'table', 'tree', 'json'] as const, default: 'text' as const, describe: 'output format (text and table are the same; tree only with --maps)' })
      .option('page-size', { type: 'number', default: 4096, describe: 'page size of the machine the checkpoint was taken on' })
      .option('max-matches', { type: 'number', describe: 'stop the search after this many matches (a note on stderr says so)' })
      .option('max-match', { type: 'number', default: 1024, describe: 'regex: longest match shown in full (longer ones are cut)' })
      .option('regex-timeout', { type: 'number', default: 10, describe: 'regex: seconds one window of memory (2-4 MiB) may take before the search is stopped' })
      .conflicts('search', ['search-regex', 'search-hex'])
      .conflicts('search-regex', ['search-hex'])
      .example('$0 memparse checkpoint.tar', 'private and shared memory of every process')
      .example('$0 memparse checkpoint.tar --maps --prot wx', 'writable and executable regions of every process')
      .example('$0 memparse checkpoint.tar --pid 1 --output pid1.txt', 'the full hexdump of process 1')
      .example('$0 memparse checkpoint.tar --search PASSWORD --context 32', 'every occurrence in every process, with 32 bytes around it')
      .example("$0 memparse checkpoint.tar --search-regex 'sk_live_[0-9a-zA-Z]{24}' --format json", 'a regex search, as JSON'),
  handler: async (args) => {
    const context = args.context;
    if (!Number.isInteger(context) || context < 0 || context > 1 << 20) throw new UsageError(`--context must be a whole number of bytes from 0 to 1048576, not ${args.context}`);
    const ps = args['page-size'];
    if (!Number.isInteger(ps) || ps < 512 || (ps & (ps - 1)) !== 0) throw new UsageError(`--page-size must be a power of two of at least 512, not ${ps}`);
    if (args.pid !== undefined && (!Number.isInteger(args.pid) || args.pid < 0)) throw new UsageError(`--pid must be a process id, not ${args.pid}`);
    const maxMatch = args['max-match'];
    if (!Number.isInteger(maxMatch) || maxMatch < 1) throw new UsageError(`--max-match must be a whole number of bytes of at least 1, not ${maxMatch}`);
    const maxMatches = args['max-matches'];
    if (maxMatches !== undefined && (!Number.isInteger(maxMatches) || maxMatches < 1)) throw new UsageError(`--max-matches must be a whole number of at least 1, not ${maxMatches}`);
    const timeout = args['regex-timeout'];
    if (!(timeout > 0)) throw new UsageError(`--regex-timeout must be a number of seconds above 0, not ${timeout}`);

    const mapsOnly = ['prot', 'region', 'address'].filter((o) => (args as unknown as Record<string, unknown>)[o] !== undefined);
    if (!args.maps && mapsOnly.length) throw new UsageError(`--${mapsOnly[0]} needs --maps`);
    if (args.format === 'tree' && !args.maps) throw new UsageError('--format tree needs --maps');
    let filter: MapsFilter | undefined;
    if (args.maps) {
      const searching = ['search', 'search-regex', 'search-hex', 'output'].find((o) => (args as unknown as Record<string, unknown>)[o] !== undefined);
      if (searching) throw new UsageError(`--maps cannot be combined with --${searching}`);
      try {
        filter = {};
        if (args.prot !== undefined) filter.prot = parseProtFilter(args.prot);
        if (args.region !== undefined) filter.kinds = parseRegionKinds(args.region);
        if (args.address !== undefined) filter.range = parseAddressFilter(args.address);
      } catch (e) {
        if (e instanceof CkptError) throw new UsageError(e.message);
        throw e;
      }
    }

    let pattern: string | RegExp | Uint8Array | undefined;
    let shown = '';
    try {
      if (args.search !== undefined) {
        if (args.search === '') throw new UsageError('--search needs a non-empty string');
        pattern = args['ignore-case'] ? compileRegex(escapeRegex(args.search), 'i') : args.search;
        shown = args.search;
      } else if (args['search-regex'] !== undefined) {
        pattern = compileRegex(args['search-regex'], args['ignore-case'] ? 'i' : '');
        shown = `/${args['search-regex']}/`;
      } else if (args['search-hex'] !== undefined) {
        pattern = parseHex(args['search-hex']);
        shown = args['search-hex'];
      }
    } catch (e) {
      if (e instanceof CkptError) throw new UsageError(e.message);
      throw e;
    }

    const writer = args.output ? await fileWriter(args.output) : undefined;
    // a reader that went away (`| head`) ends the output quietly, and the dump or search with it
    const write = writer
      ? (t: string) => writer.write(t)
      : async (t: string) => {
          try {
            await out(t);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw STDOUT_CLOSED;
            throw e;
          }
        };
    const colour = !writer && (args.format === 'text' || args.format === 'table') && useColour();
    const source = await openSource(args.checkpoint);
    try {
      await run();
    } catch (e) {
      if (e !== STDOUT_CLOSED) throw e;
    } finally {
      await source.close();
      await writer?.close();
    }

    async function run(): Promise<void> {
      if (args.maps) {
        const images = await ImageSet.load(source);
        const memory = await CheckpointMemory.load(images, { pageSize: ps });
        if (args.pid !== undefined && !memory.has(args.pid)) throw new UsageError(`no process with pid ${args.pid} in ${args.checkpoint} (pids: ${memory.pids().join(', ')})`);
        const maps = memoryMaps(memory, { pids: args.pid !== undefined ? [args.pid] : undefined, filter });
        if (args.format === 'json') await write(JSON.stringify(mapsJson(maps), null, 2) + '\n');
        else if (args.format === 'tree') await write(mapsTree(args.checkpoint, maps));
        else await write(mapsTable(maps, { colour }));
      } else if (pattern !== undefined) {
        await search(source, pattern, shown, args, write, colour);
      } else {
        const images = await ImageSet.load(source);
        const memory = await CheckpointMemory.load(images, { pageSize: ps });
        if (args.pid !== undefined) {
          if (!memory.has(args.pid)) throw new UsageError(`no process with pid ${args.pid} in ${args.checkpoint} (pids: ${memory.pids().join(', ')})`);
          const proc = memory.forPid(args.pid);
          if (args.format === 'json') await write(stringifyJson(regionsJson(args.pid, proc.regions()), true) + '\n');
          else {
            if (writer) await out(`Writing the memory of process ${args.pid} from ${args.checkpoint} to ${args.output}\n`);
            await dump(proc, memory, write, !writer);
          }
        } else {
          const rows = memoryRows(memory.processes(), (pid) => memory.comm(pid));
          if (args.format === 'json') await write(stringifyJson(memoryTableJson(rows, ps), true) + '\n');
          else await write(memoryTable(args.checkpoint, rows, ps, { colour }));
        }
      }
    }
  },
};

const STDOUT_CLOSED = Symbol('stdout closed');

async function search(
  source: Awaited<ReturnType<typeof openSource>>,
  pattern: string | RegExp | Uint8Array,
  shown: string,
  args: MemparseArgs,
  write: (t: string) => Promise<void>,
  colour: boolean,
): Promise<void> {
  let memory: CheckpointMemory | undefined;
  const json = args.format === 'json';
  let n = 0;
  const matches = searchCheckpoint(source, {
    pattern,
    context: args.context,
    pids: args.pid !== undefined ? [args.pid] : undefined,
    pageSize: args['page-size'],
    maxMatchLength: args['max-match'],
    regexRunner: (re) => workerRegexRunner(re, { timeoutMs: args['regex-timeout'] * 1000 }),
    onMemory: (m) => {
      memory = m;
      if (args.pid !== undefined && !m.has(args.pid)) throw new UsageError(`no process with pid ${args.pid} in ${args.checkpoint} (pids: ${m.pids().join(', ')})`);
    },
  });
  const max = args['max-matches'];
  let stopped = false;
  for await (const m of matches) {
    if (max !== undefined && n >= max) {
      // leaving the loop stops the reading and the regex worker at once
      stopped = true;
      break;
    }
    const comm = m.pid !== undefined ? memory?.comm(m.pid) : undefined;
    if (json) await write((n === 0 ? '[\n' : ',\n') + stringifyJson(matchJson(m, comm), false));
    else await write((n === 0 ? matchHeader({ colour }) : '') + matchLine(m, { colour }));
    n++;
  }
  if (json) await write(n === 0 ? '[]\n' : '\n]\n');
  else if (n === 0) await write(`No matches for ${shown} in the memory of ${args.pid !== undefined ? `process ${args.pid}` : 'any process'}\n`);
  if (stopped) process.stderr.write(`ckpt: note: stopped after ${n} matches (--max-matches ${max}); there are more\n`);
}

/**
 * The hexdump of one process, region by region; what is not in the checkpoint is named, not dumped.
 * The bytes are streamed (ProcessMemory.stream: one pass on a compressed archive) and each chunk
 * is written before the next is read, so memory stays flat and a closed output stops the reading.
 */
async function dump(proc: ProcessMemory, memory: CheckpointMemory, write: (t: string) => Promise<void>, collapse: boolean): Promise<void> {
  const ps = memory.pageSize;
  const comm = memory.comm(proc.pid);
  await write(`Memory of process ${proc.pid}${comm ? ` (${comm.replace(/[^\x20-\x7e]/g, '.')})` : ''}: ${proc.regions().length} regions\n\n`);
  await write(`${'Address'.padEnd(16)}  ${'Hexadecimal'.padEnd(49)} ASCII\n${'-'.repeat(85)}\n`);
  const hd = new Hexdump({ collapse });
  const plan = proc.regions().map((r) => ({ region: r, runs: proc.layout(r.start, r.end) }));
  const present = plan.flatMap((p) => p.runs.filter((r) => r.present));
  const chunks = proc.stream(present, { chunkSize: DUMP_BLOCK })[Symbol.asyncIterator]();
  try {
    for (const { region, runs } of plan) {
      hd.gap();
      await write('\n' + regionHeader(region));
      for (const run of runs) {
        if (!run.present) {
          hd.gap();
          await write(missingLine(run, ps));
          continue;
        }
        for (let at = run.start; at < run.end; ) {
          const c = await chunks.next();
          if (c.done) return;
          await write(hd.write(c.value.address, c.value.bytes));
          at = c.value.address + BigInt(c.value.bytes.length);
        }
      }
    }
  } finally {
    await chunks.return?.();
  }
}
