import type { CommandModule } from 'yargs';
import {
  assertNotInput,
  type AtomicFile,
  type CheckpointProblem,
  Checkpoint,
  CheckpointMemory,
  CkptError,
  compileRegex,
  createAtomicFile,
  Hexdump,
  imageName,
  isImageMember,
  type Literal,
  literalSetMatcher,
  type MapsFilter,
  mapsJson,
  mapsTable,
  mapsTree,
  matchHeader,
  matchJson,
  matchLine,
  memoryMaps,
  type MemoryMatch,
  type MemoryRow,
  memoryRows,
  memoryTable,
  memoryTableJson,
  missingLine,
  openSource,
  parseAddressFilter,
  parseHex,
  parseLiteralList,
  parseProtFilter,
  parseRegionKinds,
  problemsJson,
  type ProcessMaps,
  type ProcessMemory,
  readTextFile,
  REGION_KINDS,
  regionHeader,
  regionsJson,
  safe,
  searchCheckpoint,
  type WindowMatcher,
  workerRegexRunner,
  jsonText,
} from '../../node/index.js';
import { out, useColour, warnProblems } from '../io.js';
import { withProgress } from '../progress.js';
import { UsageError } from '../usage-error.js';
import { compileYaraArgs, wantsYara, yaraOptions, type YaraArgs } from '../yara-options.js';

type MemparseFormat = 'text' | 'table' | 'tree' | 'json' | 'ndjson';

/** --maps: one renderer per format (ndjson is for searches only). */
const MAPS_RENDERERS: Record<Exclude<MemparseFormat, 'ndjson'>, (label: string, maps: ProcessMaps[], colour: boolean) => string> = {
  text: (_label, maps, colour) => mapsTable(maps, { colour }),
  table: (_label, maps, colour) => mapsTable(maps, { colour }),
  tree: (label, maps) => mapsTree(label, maps),
  json: (_label, maps) => jsonText(mapsJson(maps), 2) + '\n',
};

/** The memory table of every process: one renderer per format (tree is for --maps, ndjson for searches). */
const TABLE_RENDERERS: Record<Exclude<MemparseFormat, 'ndjson' | 'tree'>, (label: string, rows: MemoryRow[], pageSize: number, problems: CheckpointProblem[], colour: boolean) => string> = {
  text: (label, rows, pageSize, _problems, colour) => memoryTable(label, rows, pageSize, { colour }),
  table: (label, rows, pageSize, _problems, colour) => memoryTable(label, rows, pageSize, { colour }),
  json: (label, rows, pageSize, problems) => jsonText({ checkpoint: label, page_size: pageSize, processes: memoryTableJson(rows, pageSize), problems: problemsJson(problems) }, 2) + '\n',
};

interface MemparseArgs extends YaraArgs {
  checkpoint: string;
  pid?: number;
  output?: string;
  search?: string;
  'search-regex'?: string;
  'search-hex'?: string;
  'search-file'?: string;
  'ignore-case': boolean;
  context: number;
  format: MemparseFormat;
  force: boolean;
  maps: boolean;
  prot?: string;
  region?: string[];
  address?: string;
  'page-size': number;
  'max-match': number;
  'max-matches'?: number;
  'regex-timeout': number;
}

/**
 * Bytes of memory per piece of the dump (about 350 KB of text). Pieces of 1 MiB (5.5 MB of text,
 * a large string and a large buffer each) took Node 24 to 211-266 MB on a 1 GiB process; 64 KiB
 * pieces hold it at 105-139 MB, no slower (docs/performance.md).
 */
const DUMP_BLOCK = 64 << 10;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export const memparseCommand: CommandModule<object, MemparseArgs> = {
  command: 'memparse <checkpoint>',
  describe: 'Analyse the memory of a checkpoint: sizes per process, a hexdump of one process, or a search of every process and of shared memory',
  builder: (y) =>
    yaraOptions(
      y
        .positional('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint archive (.tar, gzip or zstd) or checkpoint/image directory' })
        .option('pid', { alias: 'p', type: 'number', describe: 'a hexdump of this process, region by region (with a search: search only this process)' })
        .option('output', { alias: 'o', type: 'string', describe: 'write to this file instead of stdout (the dump is then written in full, without * lines); never the checkpoint itself, never over an existing file without --force' })
        .option('force', { type: 'boolean', default: false, describe: 'with --output: replace an existing file (atomically, when the run succeeds)' })
        .option('search', { alias: 's', type: 'string', describe: 'search memory for this string (UTF-8 bytes)' })
        .option('search-regex', { alias: 'r', type: 'string', describe: 'search memory for this regular expression (JavaScript syntax, over bytes as latin1)' })
        .option('search-hex', { alias: 'x', type: 'string', describe: 'search memory for these bytes, e.g. "de ad be ef"' })
        .option('search-file', { type: 'string', describe: 'search memory for every literal of this file at once (one a line; hex: for bytes)' }),
      'memory',
    )
      .option('ignore-case', { alias: 'i', type: 'boolean', default: false, describe: 'case-insensitive --search / --search-regex' })
      .option('context', { alias: 'c', type: 'number', default: 0, describe: 'bytes of memory to show before and after each match' })
      .option('maps', { type: 'boolean', default: false, describe: 'list the memory regions of every process (or --pid), like /proc/PID/maps, with the pages in the checkpoint' })
      .option('prot', { type: 'string', describe: 'with --maps: regions with at least these permissions, e.g. rwx, wx, rw-s' })
      .option('region', { type: 'string', array: true, describe: `with --maps: regions of these kinds (${REGION_KINDS.join(', ')})` })
      .option('address', { type: 'string', describe: 'with --maps: the region holding address A, or regions overlapping A-B (hex)' })
      .option('format', { choices: ['text', 'table', 'tree', 'json', 'ndjson'] as const, default: 'text' as const, describe: 'output format (text and table are the same; tree only with --maps; ndjson only for searches, one match per line as found)' })
      .option('page-size', { type: 'number', default: 4096, describe: 'page size of the machine the checkpoint was taken on' })
      .option('max-matches', { type: 'number', describe: 'stop the search after this many matches (a note on stderr says so)' })
      .option('max-match', { type: 'number', default: 1024, describe: 'regex: longest match shown in full (longer ones are cut)' })
      .option('regex-timeout', { type: 'number', default: 10, describe: 'regex: seconds one window of memory (2-4 MiB) may take before the search is stopped' })
      .conflicts('search', ['search-regex', 'search-hex', 'search-file', 'yara', 'yara-rule'])
      .conflicts('search-regex', ['search-hex', 'search-file', 'yara', 'yara-rule'])
      .conflicts('search-hex', ['search-file', 'yara', 'yara-rule'])
      .conflicts('search-file', ['yara', 'yara-rule'])
      .example('$0 memparse checkpoint.tar', 'private and shared memory of every process')
      .example('$0 memparse checkpoint.tar --maps --prot wx', 'writable and executable regions of every process')
      .example('$0 memparse checkpoint.tar --pid 1 --output pid1.txt', 'the full hexdump of process 1')
      .example('$0 memparse checkpoint.tar --search PASSWORD --context 32', 'every occurrence in every process, with 32 bytes around it')
      .example("$0 memparse checkpoint.tar --search-regex 'sk_live_[0-9a-zA-Z]{24}' --format json", 'a regex search, as JSON'),
  handler: async (args) => {
    const context = args.context;
    if (!Number.isInteger(context) || context < 0 || context > 1 << 20) throw new UsageError(`option --context must be a whole number of bytes from 0 to 1048576, not ${args.context}`);
    const ps = args['page-size'];
    if (!Number.isInteger(ps) || ps < 512 || (ps & (ps - 1)) !== 0) throw new UsageError(`option --page-size must be a power of two of at least 512, not ${ps}`);
    if (args.pid !== undefined && (!Number.isInteger(args.pid) || args.pid < 0)) throw new UsageError(`option --pid must be a process id, not ${args.pid}`);
    const maxMatch = args['max-match'];
    if (!Number.isInteger(maxMatch) || maxMatch < 1) throw new UsageError(`option --max-match must be a whole number of bytes of at least 1, not ${maxMatch}`);
    const maxMatches = args['max-matches'];
    if (maxMatches !== undefined && (!Number.isInteger(maxMatches) || maxMatches < 1)) throw new UsageError(`option --max-matches must be a whole number of at least 1, not ${maxMatches}`);
    const timeout = args['regex-timeout'];
    if (!(timeout > 0)) throw new UsageError(`option --regex-timeout must be a number of seconds above 0, not ${timeout}`);
    if (args['ignore-case'] && args['search-hex'] !== undefined) throw new UsageError('option --ignore-case (-i) does not apply to --search-hex (bytes have no case)');
    const searching = args.search !== undefined || args['search-regex'] !== undefined || args['search-hex'] !== undefined;
    if (args.format === 'ndjson' && !searching) throw new UsageError('option --format ndjson is for searches (--search, --search-regex, --search-hex)');
    if (args.force && !args.output) throw new UsageError('option --force only applies with --output');

    const mapsOnly = ['prot', 'region', 'address'].filter((o) => (args as unknown as Record<string, unknown>)[o] !== undefined);
    if (!args.maps && mapsOnly.length) throw new UsageError(`option --${mapsOnly[0]} needs --maps`);
    if (args.format === 'tree' && !args.maps) throw new UsageError('option --format tree needs --maps');
    let filter: MapsFilter | undefined;
    if (args.maps) {
      const searching = ['search', 'search-regex', 'search-hex', 'search-file', 'yara', 'yara-rule', 'output'].find((o) => (args as unknown as Record<string, unknown>)[o] !== undefined);
      if (searching) throw new UsageError(`option --maps cannot be combined with --${searching}`);
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

    let pattern: string | RegExp | Uint8Array | WindowMatcher | undefined;
    let shown = '';
    let literals: Literal[] | undefined;
    try {
      if (args.search !== undefined) {
        if (args.search === '') throw new UsageError('option --search needs a non-empty string');
        pattern = args['ignore-case'] ? compileRegex(escapeRegex(args.search), 'i') : args.search;
        shown = args.search;
      } else if (args['search-regex'] !== undefined) {
        pattern = compileRegex(args['search-regex'], args['ignore-case'] ? 'i' : '');
        shown = `/${args['search-regex']}/`;
      } else if (args['search-hex'] !== undefined) {
        pattern = parseHex(args['search-hex']);
        shown = args['search-hex'];
      } else if (args['search-file'] !== undefined) {
        literals = parseLiteralList(await readTextFile(args['search-file']), args['search-file']);
        pattern = literalSetMatcher(literals);
        shown = `the ${literals.length} literal${literals.length === 1 ? '' : 's'} of ${args['search-file']}`;
      } else if (wantsYara(args)) {
        const rules = await compileYaraArgs(args);
        if (typeof rules === 'string') return;
        pattern = rules.matcher;
        shown = rules.shown;
      }
    } catch (e) {
      if (e instanceof CkptError && (args['search-file'] !== undefined || wantsYara(args))) throw e;
      if (e instanceof CkptError) throw new UsageError(`option --search${args.search !== undefined ? '' : args['search-regex'] !== undefined ? '-regex' : '-hex'}: ${e.message}`);
      throw e;
    }

    // the output file is opened only once every argument has been checked (the pid against the
    // checkpoint too); it is written under a temporary name and renamed into place at the end
    let file: AtomicFile | undefined;
    const openOutput = async () => {
      if (args.output && !file) file = await createAtomicFile(args.output, { force: args.force, inputs: [args.checkpoint] });
    };
    // a reader that went away (`| head`) ends the output quietly, and the dump or search with it
    const write = async (t: string) => {
      if (args.output) {
        await openOutput();
        return file!.write(t);
      }
      try {
        await out(t);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw STDOUT_CLOSED;
        throw e;
      }
    };
    if (args.output) assertNotInput(args.output, [args.checkpoint]);
    const colour = !args.output && (args.format === 'text' || args.format === 'table') && useColour();
    const progress = withProgress(await openSource(args.checkpoint));
    const source = progress.source;
    try {
      await run();
      await openOutput();
      await file?.commit();
    } catch (e) {
      if (e !== STDOUT_CLOSED) throw e;
    } finally {
      progress.stop();
      await file?.abort();
      await source.close();
    }

    async function run(): Promise<void> {
      if (pattern !== undefined) {
        await search(source, pattern, shown, args, write, colour, literals);
        return;
      }
      const ck = await Checkpoint.open(source);
      if (!ck.images.entries.some((e) => isImageMember(e.path) && /^pagemap-\d+\.img$/.test(imageName(e.path)!))) {
        throw new CkptError('no memory images in it (no checkpoint/pagemap-<pid>.img): nothing for memparse', source.label);
      }
      const memory = await CheckpointMemory.load(ck.images, { pageSize: ps });
      void ck.processes; // notes a missing pstree.img
      const problems = () => [...ck.problems, ...memory.problems];
      if (args.maps) {
        const pid = args.pid !== undefined ? resolvePid(ck, memory, args.pid, args.checkpoint) : undefined;
        const maps = memoryMaps(memory, { pids: pid !== undefined ? [pid] : undefined, filter });
        warnProblems(problems());
        await write(MAPS_RENDERERS[args.format as Exclude<MemparseFormat, 'ndjson'>](args.checkpoint, maps, colour));
        return;
      }
      if (args.pid === undefined) {
        const rows = memoryRows(memory.processes(), (pid) => memory.comm(pid));
        warnProblems(problems());
        await write(TABLE_RENDERERS[args.format as Exclude<MemparseFormat, 'ndjson' | 'tree'>](args.checkpoint, rows, ps, problems(), colour));
        return;
      }
      const pid = resolvePid(ck, memory, args.pid, args.checkpoint);
      const proc = memory.forPid(pid);
      const state = ck.process(pid)?.state ?? null;
      const comm = memory.comm(pid);
      warnProblems(problems());
      if (args.format === 'json') {
        await write(jsonText(regionsJson(pid, proc.regions(), state), 2) + '\n');
        return;
      }
      if (state === 'zombie' && proc.regions().length === 0) {
        await write(`Process ${pid}${comm ? ` (${safe(comm)})` : ''}: zombie: no memory (it has exited; only its exit status is in the checkpoint)\n`);
        return;
      }
      if (args.output) await openOutput();
      if (args.output) process.stderr.write(`ckpt: writing the memory of process ${pid} from ${safe(args.checkpoint)} to ${safe(args.output)}\n`);
      await dump(proc, memory, write, !args.output);
    }
  },
};

/**
 * The process `requested` names: itself, or the process one of whose threads it is (said on
 * stderr). A pid that is neither is a usage error listing the pids.
 */
function resolvePid(ck: Checkpoint, memory: CheckpointMemory, requested: number, label: string): number {
  if (memory.has(requested)) return requested;
  const owner = ck.processOfThread(requested);
  if (owner && memory.has(owner.pid)) {
    process.stderr.write(`ckpt: note: ${requested} is a thread of process ${owner.pid}: using process ${owner.pid}\n`);
    return owner.pid;
  }
  throw new UsageError(`no process with pid ${requested} in ${label} (pids: ${memory.pids().join(', ')})`);
}

const STDOUT_CLOSED = Symbol('stdout closed');

async function search(
  source: Awaited<ReturnType<typeof openSource>>,
  pattern: string | RegExp | Uint8Array | WindowMatcher,
  shown: string,
  args: MemparseArgs,
  write: (t: string) => Promise<void>,
  colour: boolean,
  literals?: Literal[],
): Promise<void> {
  // a literal list's matches name the literal (as written in the list)
  const tagText = (m: MemoryMatch) => (typeof m.tag === 'number' && literals ? literals[m.tag] : undefined);
  // the same match is reported once (pid, address or object offset, pattern)
  const seen = new Set<string>();
  let memory: CheckpointMemory | undefined;
  let zombie = false;
  const json = args.format === 'json';
  const ndjson = args.format === 'ndjson';
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
      if (args.pid !== undefined) zombie = m.forPid(args.pid).regions().length === 0 && !m.forPid(args.pid).pagemap;
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
    if (m.tag !== undefined) {
      const key = `${m.pid ?? '-'}/${m.address ?? `${m.object?.key}+${m.objectOffset}`}/${m.tag}/${m.match.length}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    const comm = m.pid !== undefined ? memory?.comm(m.pid) : undefined;
    const lit = tagText(m);
    const j = matchJson(m, comm, lit && { text: lit.text, line: lit.line });
    if (ndjson) await write(jsonText(j) + '\n');
    else if (json) await write((n === 0 ? '[\n' : ',\n') + indent(jsonText(j, 2)));
    else await write((n === 0 ? matchHeader({ colour, rule: typeof m.tag === 'string' }) : '') + matchLine(m, { colour }));
    n++;
  }
  // the archive's damage (a copy cut short: what lies past it was not searched), then the memory's
  const damage = (source.damage?.() ?? []).map((d) => ({ kind: 'damaged' as const, file: d.file, offset: d.offset, message: d.message }));
  warnProblems([...damage, ...(memory?.problems ?? [])]);
  if (stopped) process.stderr.write(`ckpt: note: stopped after ${n} matches (--max-matches ${max}); there are more\n`);
  if (json) await write(n === 0 ? '[]\n' : '\n]\n');
  else if (ndjson) return;
  else if (n === 0 && zombie) await write(`Process ${args.pid}${memory?.comm(args.pid!) ? ` (${safe(memory.comm(args.pid!)!)})` : ''}: zombie: no memory (nothing to search)\n`);
  else if (n === 0) await write(`No matches for ${safe(shown)} in the memory of ${args.pid !== undefined ? `process ${args.pid}` : 'any process'}\n`);
}

/** A JSON text indented one level (two spaces), for an element of a streamed array. */
function indent(text: string): string {
  return text.replace(/^/gm, '  ');
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
