/**
 * ckpt in the browser: open a checkpoint archive from this machine (file picker or drag and
 * drop) and look at it. Everything runs in the page: the File is read with Blob.slice (plain
 * tar) or streamed through DecompressionStream (gzip) or a zstd decoder in a Web Worker; nothing
 * is uploaded (the page's CSP has connect-src 'none').
 */
import {
  Checkpoint,
  CkptError,
  isCkptError,
  openBlobSource,
  type CheckpointMemory,
  type CheckpointSource,
  type MemoryRegion,
  type OpenFile,
  type Process,
  type ProcessArguments,
  type Socket,
  type BlobLike,
  type BlobSourceOptions,
  type RootfsChanges,
  listRootfsChanges,
  fileModeText,
  findFindings,
  artifactPreviews,
  SEVERITIES,
  type ArtifactPreview,
  type Finding,
  imageName,
} from '../../src/index.js';
import { byteSize, duration, hostPort, rfc3339 } from '../../src/views/format.js';
import { escapeBytes, hexRow } from '../../src/views/hexdump.js';
import { socketText } from '../../src/views/tree.js';
import { $, clear, facts, h, hex, t, table } from './dom.js';
import { legend, memoryMap, processTree } from './pictures.js';
import type { FoundMatch, FromWorker, SearchMode, ToWorker } from './protocol.js';

declare const WORKER_SOURCE: string;
const workerUrl = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));

interface Opened {
  file: File;
  source: CheckpointSource;
  ck: Checkpoint;
  memory?: CheckpointMemory;
  args?: Map<number, ProcessArguments>;
  /** First bytes of queued data and ghost files, by `pid:fd` (the model's artifactPreviews). */
  previews?: Map<string, ArtifactPreview[]>;
}
let current: Opened | undefined;

// ---------------------------------------------------------------- progress and cancellation

/**
 * The long read under way: one progress bar with a Cancel button. A reading task (opening, argv,
 * root file-system changes, a hexdump) is cancelled through the AbortSignal the page's source
 * checks before every read (`sourceOptions.signal`); a search by terminating its worker.
 */
interface Task {
  readonly signal: AbortSignal;
  update(done: number, total: number): void;
  end(): void;
}
let activeTask: { cancel: () => void; update: (done: number, total: number) => void } | undefined;
let readController = new AbortController();

function progress(label: string, cancel?: () => void): Task {
  const bar = $('progress') as HTMLProgressElement;
  const box = $('progressbox');
  const text = $('progresstext');
  box.hidden = false;
  bar.removeAttribute('value');
  text.textContent = label;
  if (!cancel) {
    readController = new AbortController();
    const c = readController;
    cancel = () => c.abort();
  }
  let last = 0;
  const task = {
    signal: readController.signal,
    cancel,
    update(done: number, total: number) {
      const now = performance.now();
      if (now - last < 50 && done < total) return;
      last = now;
      bar.max = total;
      bar.value = done;
      text.textContent = `${label}: ${byteSize(done)} of ${byteSize(total)}`;
    },
    end() {
      if (activeTask !== task) return;
      box.hidden = true;
      activeTask = undefined;
    },
  };
  activeTask = task;
  return task;
}

/** Options of the page's sources: zstd in a worker, progress and cancellation of the task under way. */
const sourceOptions: BlobSourceOptions = {
  zstd: zstdInWorker,
  onRead: (pos, total) => activeTask?.update(pos, total),
  get signal() {
    return readController.signal;
  },
};

function status(text: string, error = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

function errorText(e: unknown): string {
  if (isCkptError(e)) return e.message;
  if (e instanceof DOMException && e.name === 'AbortError') return 'cancelled';
  return `internal error: ${(e as Error).message ?? String(e)}`;
}

// ---------------------------------------------------------------- zstd in a Web Worker

/** zstd decompression in a worker, chunks handed back one at a time (flow control by acks). */
function zstdInWorker(blob: BlobLike, label: string, onRead: (position: number) => void): AsyncIterable<Uint8Array> {
  return (async function* () {
    const w = new Worker(workerUrl);
    const queue: FromWorker[] = [];
    let wake: (() => void) | undefined;
    w.onmessage = (ev: MessageEvent<FromWorker>) => {
      queue.push(ev.data);
      wake?.();
    };
    w.onerror = (ev) => {
      queue.push({ op: 'error', message: `${label}: zstd worker failed (${ev.message})` });
      wake?.();
    };
    w.postMessage({ op: 'zstd', blob: blob as Blob, label } satisfies ToWorker);
    try {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        const m = queue.shift()!;
        if (m.op === 'chunk') {
          onRead(m.consumed);
          yield m.data;
          w.postMessage({ op: 'ack' } satisfies ToWorker);
        } else if (m.op === 'end') return;
        else if (m.op === 'error') throw new CkptError(m.message.startsWith(label) ? m.message.slice(label.length + 2) : m.message, label);
      }
    } finally {
      w.terminate();
    }
  })();
}

// ---------------------------------------------------------------- opening

async function openFile(file: File): Promise<void> {
  activeTask?.cancel();
  const p = progress(`Reading ${file.name}`);
  const t0 = performance.now();
  document.body.dataset.state = 'opening';
  status(`Opening ${file.name} (${byteSize(file.size)})…`);
  try {
    const source = await openBlobSource(file, file.name, sourceOptions);
    const ck = await Checkpoint.open(source);
    current = { file, source, ck };
    const ms = Math.round(performance.now() - t0);
    document.body.dataset.openMs = String(ms);
    const kind = source.randomAccess ? 'plain tar, read at offsets' : 'compressed, read in passes';
    status(`${file.name}: ${byteSize(file.size)}, ${kind}; opened in ${ms} ms. Nothing was uploaded.`);
    renderAll(current);
    document.body.dataset.state = 'open';
    p.end();
    await loadMemory(current);
  } catch (e) {
    p.end();
    document.body.dataset.state = 'error';
    status(p.signal.aborted ? `${file.name}: cancelled` : errorText(e), true);
  }
}

/** The memory model and every process's argv and environment (a pass over a compressed archive). */
async function loadMemory(o: Opened): Promise<void> {
  const p = progress('Reading argv and environment');
  try {
    o.memory = await o.ck.memory();
    renderMemoryTab(o);
    // queued bytes and ghost files: their bytes are in the images already read
    o.previews = await artifactPreviews(o.ck, PREVIEW_BYTES);
    if (current !== o) return;
    renderFiles(o);
    document.body.dataset.previews = 'loaded';
    o.args = await o.ck.arguments();
    if (current !== o) return;
    renderProcesses(o);
    document.body.dataset.args = 'loaded';
  } catch (e) {
    if (current === o) status(`${p.signal.aborted ? 'cancelled' : errorText(e)} (argv and environment not shown)`, true);
  } finally {
    p.end();
  }
}

// ---------------------------------------------------------------- views

function renderAll(o: Opened): void {
  document.body.classList.add('opened');
  renderOverview(o);
  renderProcesses(o);
  renderFiles(o);
  renderMounts(o);
  rootfsShown = undefined;
  findingsShown = undefined;
  delete document.body.dataset.rootfs;
  delete document.body.dataset.args;
  delete document.body.dataset.previews;
  delete document.body.dataset.findings;
  clear($('rootfs'), h('p', { class: 'muted' }, 'Reading the root file-system changes…'));
  clear($('findings'), h('p', { class: 'muted' }, 'Looking for findings…'));
  clear($('memory'), h('p', { class: 'muted' }, 'Reading the memory layout…'));
  clear($('results'));
  $('searchsummary').textContent = '';
  showTab(currentTab);
}

function renderOverview(o: Opened): void {
  const c = o.ck.container;
  const sz = o.ck.sizes;
  const ips = c.network.interfaces.flatMap((i) => i.addresses.map((a) => a.replace(/\/\d+$/, ''))).join(', ');
  const macs = c.network.interfaces.map((i) => i.mac).filter(Boolean).join(', ');
  const stats = o.ck.statistics;
  const problems = o.ck.problems;
  clear(
    $('overview'),
    h('h2', {}, 'Container'),
    facts(
      [
        ['Container', t(c.name)],
        ['Image', t(c.image.name)],
        ['ID', t(c.id)],
        ['Runtime', t(c.runtime)],
        ['Created', rfc3339(c.created)],
        ['Checkpointed', rfc3339(c.checkpointed)],
        ['Engine', c.engine],
        ['IP', t(ips)],
        ['MAC', t(macs)],
        ['Pod', t(c.pod)],
        ['Namespace', t(c.namespace)],
        ['Hostname', t(c.hostname)],
        ['Command', c.command ? c.command.map(t).join(' ') : ''],
        ['Checkpoint size', byteSize(sz.total)],
        ['Memory pages', byteSize(sz.memoryPages)],
        ['Root FS diff size', sz.rootFsDiff ? byteSize(sz.rootFsDiff) : ''],
        ['Processes', String(o.ck.processes.length)],
      ],
      { id: 'overview-facts' },
    ),
    stats
      ? h(
          'div',
          {},
          h('h2', {}, 'Dump statistics'),
          facts([
            ['Freezing time', stats.freezing_time !== undefined ? duration(stats.freezing_time) : ''],
            ['Frozen time', stats.frozen_time !== undefined ? duration(stats.frozen_time) : ''],
            ['Memory dump time', stats.memdump_time !== undefined ? duration(stats.memdump_time) : ''],
            ['Memory write time', stats.memwrite_time !== undefined ? duration(stats.memwrite_time) : ''],
            ['Pages scanned', stats.pages_scanned !== undefined ? String(stats.pages_scanned) : ''],
            ['Pages written', stats.pages_written !== undefined ? String(stats.pages_written) : ''],
          ]),
        )
      : null,
    problems.length ? h('div', { class: 'problems' }, h('h2', {}, 'Damaged or missing parts'), h('ul', {}, ...problems.map((x) => h('li', {}, `${t(x.file)}${x.offset !== null ? ` at byte ${x.offset}` : ''}: ${t(x.message)}`)))) : null,
  );
}

function credentialsText(p: Process): string {
  const c = p.credentials;
  if (!c) return '';
  return `uid ${c.uid} euid ${c.euid} gid ${c.gid} egid ${c.egid}${c.groups.length ? ` groups ${c.groups.join(',')}` : ''}`;
}

function processDetails(p: Process, args: ProcessArguments | undefined, depth: number): HTMLElement {
  const threads = p.threads.length > 1 ? `, ${p.threads.length} threads` : '';
  const extra = p.state === 'zombie' ? ` (exit ${p.exitSignal ?? p.exitStatus ?? '?'})` : p.state === 'stopped' && p.stopSignal ? ` (${p.stopSignal})` : '';
  return h(
    'details',
    { class: 'proc', 'data-pid': p.pid, open: depth < 2 },
    h('summary', {}, h('b', {}, String(p.pid)), ' ', h('span', { class: 'comm' }, t(p.comm)), ' ', h('span', { class: `state ${p.state}` }, p.state + extra), threads),
    facts([
      ['ppid / pgid / sid', `${p.ppid} / ${p.pgid} / ${p.sid}`],
      ['Executable', t(p.exe)],
      ['Working directory', t(p.cwd)],
      ['Credentials', credentialsText(p)],
      ['Capabilities (effective)', p.credentials ? p.credentials.capabilities.effective.join(' ') || 'none' : ''],
      ['Seccomp', p.seccomp ?? ''],
      ['Threads', p.threads.length > 1 ? h('ul', {}, ...p.threads.map((th) => h('li', {}, `${th.tid} ${t(th.comm)}`))) : ''],
      ['argv', args ? h('ol', { class: 'argv' }, ...args.argv.slice(0, 300).map((a) => h('li', {}, t(a)))) : p.state === 'alive' || p.state === 'stopped' ? h('span', { class: 'muted' }, 'reading…') : ''],
      ['Environment', args && args.environment.length ? h('ul', { class: 'env' }, ...args.environment.slice(0, 300).map((a) => h('li', {}, t(a)))) : ''],
      ['Open files', String(p.files.length)],
    ]),
    ...p.children.map((c) => processDetails(c, current?.args?.get(c.pid), depth + 1)),
  );
}

function renderProcesses(o: Opened): void {
  clear(
    $('processes'),
    h('h2', {}, 'Process tree'),
    h('div', { class: 'scroll' }, processTree(o.ck.roots, (p) => document.querySelector(`details.proc[data-pid="${p.pid}"]`)?.scrollIntoView({ block: 'center' }))),
    h('h2', {}, 'Processes'),
    ...o.ck.roots.map((r) => processDetails(r, o.args?.get(r.pid), 0)),
  );
}

function peersText(f: OpenFile): string {
  return (f.peers ?? []).map((x) => `${x.pid}:${x.fd}`).join(', ');
}

/** Bytes of queued data (and of a ghost file) shown next to the fd that holds them. */
const PREVIEW_BYTES = 64;

/** The previews of what fd `fd` of `pid` holds: direction (or kind), size, and the first bytes escaped (\xNN). */
function previewCell(o: Opened, pid: number, fd: number): HTMLElement | string {
  const list = o.previews?.get(`${pid}:${fd}`);
  if (!list?.length) return '';
  return h(
    'div',
    { class: 'previews' },
    ...list.map((x) =>
      h(
        'div',
        { class: 'preview', 'data-kind': x.kind, 'data-direction': x.direction ?? '', 'data-size': x.size },
        h('span', { class: 'muted' }, `${x.direction ?? x.kind} ${byteSize(x.size)}: `),
        h('code', {}, escapeBytes(x.bytes) + (x.size > x.bytes.length ? '…' : '')),
      ),
    ),
  );
}

function renderFiles(o: Opened): void {
  const fileRows = o.ck.processes.flatMap((p) =>
    p.files.map((f) => [String(p.pid), String(f.fd), f.type, t(f.path) + (f.deleted ? ' (deleted)' : ''), f.flags ?? '', peersText(f), f.queued ? byteSize(f.queued) : '', previewCell(o, p.pid, f.fd)]),
  );
  const sk = (x: Socket) => [
    String(x.pid),
    String(x.fd),
    `${x.family} ${x.type}${x.protocol ? ' ' + x.protocol : ''}`,
    x.state ?? '',
    x.local ? hostPort(x.local) : x.path !== undefined ? t(x.path) || '(unnamed)' : '',
    x.remote ? hostPort(x.remote) : x.peer && x.peer.ino ? `${x.peer.pid ? `${x.peer.pid}:${x.peer.fd} ` : ''}ino ${x.peer.ino}${x.peer.name ? ' ' + t(x.peer.name) : ''}` : '',
    x.queued.in || x.queued.out ? `in ${byteSize(x.queued.in)}, out ${byteSize(x.queued.out)}` : '',
    previewCell(o, x.pid, x.fd),
    t(socketText(x)),
  ];
  clear(
    $('files'),
    h('h2', {}, `Sockets (${o.ck.sockets.length})`),
    table(['pid', 'fd', 'socket', 'state', 'local', 'peer', 'queued', `queued bytes (first ${PREVIEW_BYTES})`, 'as ckpt inspect shows it'], o.ck.sockets.map(sk), { id: 'sockets' }),
    h('h2', {}, `Open files (${fileRows.length})`),
    table(['pid', 'fd', 'type', 'path', 'flags', 'peers', 'queued', `queued or deleted file's bytes (first ${PREVIEW_BYTES})`], fileRows, { id: 'openfiles' }),
  );
}

function renderMounts(o: Opened): void {
  const m = o.ck.mounts;
  clear(
    $('mounts'),
    h('h2', {}, `Mounts in CRIU's image (${m.criu.length})`),
    table(['id', 'parent', 'mount point', 'type', 'source', 'root', 'options'], m.criu.map((x) => [String(x.mntId), String(x.parentMntId), t(x.mountpoint), t(x.type), t(x.source), t(x.root), t(x.options)])),
    h('h2', {}, `Mounts in the OCI spec (${m.spec.length})`),
    table(['destination', 'type', 'source', 'options'], m.spec.map((x) => [t(x.destination), t(x.type), t(x.source), x.options.map(t).join(',')])),
  );
}

/** Root file-system changes (the model's listRootfsChanges: one pass over rootfs-diff.tar, content hashed). */
async function renderRootfs(o: Opened): Promise<void> {
  const p = progress('Reading the root file-system changes');
  const box = $('rootfs');
  const c = o.ck.container;
  const has = o.ck.sizes.rootFsDiff > 0;
  clear(box, h('h2', {}, 'Root file-system changes'), h('p', { class: 'muted' }, has ? 'Reading rootfs-diff.tar…' : 'No rootfs-diff.tar in this checkpoint.'));
  const into: RootfsChanges = { member: null, compression: null, entries: [], deleted: [] };
  let error = '';
  try {
    await listRootfsChanges(o.source, c.deletedFiles, { into });
  } catch (e) {
    error = p.signal.aborted ? 'cancelled' : errorText(e);
  } finally {
    p.end();
  }
  if (current !== o) return;
  const changes = into;
  clear(
    box,
    h('h2', {}, 'Root file-system changes'),
    facts([
      ['rootfs-diff.tar', changes.member ? `${byteSize(o.ck.sizes.rootFsDiff)}${changes.compression && changes.compression !== 'none' ? ` (${changes.compression})` : ''}, ${changes.entries.length} entries` : 'none in this checkpoint'],
      ['Deleted', String(changes.deleted.length)],
    ]),
    error ? h('p', { class: 'error' }, `${error} (what was read before is shown)`) : null,
    changes.entries.length
      ? table(
          ['mode', 'owner', 'size', 'modified', 'path', 'sha256'],
          changes.entries.map((e) => [
            fileModeText(e.type, e.mode),
            `${e.user !== null ? t(e.user) : e.uid}:${e.group !== null ? t(e.group) : e.gid}`,
            e.type === 'file' ? String(e.size) : '',
            e.mtime ?? '',
            t(e.path) + (e.linkTarget !== null ? ` -> ${t(e.linkTarget)}` : ''),
            e.sha256 ? h('span', { class: 'hash', title: e.sha256 }, e.sha256.slice(0, 16) + '…') : '',
          ]),
          { id: 'rootfs-entries' },
        )
      : null,
    changes.deleted.length
      ? h('div', {}, h('h2', {}, 'Deleted'), table(['path', 'how'], changes.deleted.map((d) => [t(d.path), d.how === 'deleted-files' ? 'deleted.files' : d.how]), { id: 'rootfs-deleted' }))
      : null,
  );
  document.body.dataset.rootfs = 'loaded';
}

// ---------------------------------------------------------------- findings

/** The checkpoint whose findings were looked for (when the tab is first shown: it reads memory, argv and the diff). */
let findingsShown: Opened | undefined;

/** Findings of tampering: the model's findFindings, as `ckpt findings` (no disassembler here: hex only). */
async function renderFindings(o: Opened): Promise<void> {
  const box = $('findings');
  clear(box, h('h2', {}, 'Findings'), h('p', { class: 'muted' }, 'Looking at memory, processes, sockets and the root file-system diff…'));
  const p = progress('Looking for findings');
  let list: Finding[] | undefined;
  let error = '';
  try {
    list = await findFindings(o.ck);
  } catch (e) {
    error = p.signal.aborted ? 'cancelled' : errorText(e);
  } finally {
    p.end();
  }
  if (current !== o) return;
  if (!list) {
    clear(box, h('h2', {}, 'Findings'), h('p', { class: 'error' }, error));
    document.body.dataset.findings = 'error';
    return;
  }
  const counts = [...SEVERITIES].reverse().map((sev) => [sev, list!.filter((f) => f.severity === sev).length] as const).filter(([, n]) => n > 0);
  const problems = o.ck.problems;
  clear(
    box,
    h('h2', {}, `Findings (${list.length})`),
    h('p', {}, list.length ? `${counts.map(([sev, n]) => `${n} ${sev}`).join(', ')}. Each rule is explained in docs/findings.md; click an address for its bytes.` : 'Nothing that looks like tampering.'),
    problems.length ? h('p', { class: 'error' }, `Parts of the checkpoint are damaged or missing (${problems.map((x) => t(x.file)).join(', ')}): these are the findings of the intact parts.`) : null,
    list.length
      ? h(
          'table',
          { id: 'findings-table' },
          h('thead', {}, h('tr', {}, ...['severity', 'rule', 'pid', 'address', 'path', 'what', 'evidence'].map((x) => h('th', {}, x)))),
          h('tbody', {}, ...list.map((f) => findingRow(o, f))),
        )
      : null,
  );
  // damage found while looking (a damaged diff) is listed on the overview too
  if (problems.length) renderOverview(o);
  document.body.dataset.findings = 'loaded';
}

function findingRow(o: Opened, f: Finding): HTMLElement {
  const address = f.address !== null ? hex(f.address) : '';
  const addressCell =
    f.pid !== null && f.address !== null && o.memory?.has(f.pid)
      ? h('button', { class: 'linkish', onclick: () => openHexdump(o, f.pid!, f.address!, 0) }, address)
      : address;
  const ev = f.evidence;
  const evidence = ev
    ? h(
        'details',
        {},
        h('summary', {}, `${ev.bytes.length} bytes${ev.kind === 'file' ? ' of the file' : ''}${ev.missing ? ` (${ev.missing} not in the checkpoint)` : ''}`),
        h('pre', { class: 'evidence' }, ...chunks(ev.bytes, 16).map((b, i) => h('div', {}, hexRow((ev.address ?? 0n) + BigInt(i * 16), b)))),
      )
    : '';
  return h(
    'tr',
    { class: `finding sev-${f.severity}`, 'data-rule': f.rule, 'data-severity': f.severity, 'data-pid': f.pid ?? '', 'data-address': address, 'data-path': f.path ?? '' },
    h('td', {}, h('span', { class: `sev ${f.severity}` }, f.severity)),
    h('td', {}, f.rule),
    h('td', {}, f.pid !== null ? String(f.pid) : ''),
    h('td', {}, addressCell),
    h('td', {}, t(f.path)),
    h('td', { class: 'what' }, t(f.message)),
    h('td', {}, evidence),
  );
}

function chunks(b: Uint8Array, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, i + n));
  return out;
}

/** The memory tab at `address` of `pid`, its hexdump there (`length` bytes highlighted). */
function openHexdump(o: Opened, pid: number, address: bigint, length: number): void {
  if (!o.memory) return;
  showTab('memory');
  renderMemoryTab(o, pid);
  void showHexdump(o, pid, address, length);
}

// ---------------------------------------------------------------- memory map and hexdump

let selectedPid: number | undefined;

function renderMemoryTab(o: Opened, pid?: number): void {
  const mem = o.memory;
  if (!mem) return;
  const pids = mem.pids().filter((x) => mem.forPid(x).regions().length > 0);
  selectedPid = pid ?? (selectedPid !== undefined && pids.includes(selectedPid) ? selectedPid : pids[0]);
  const picker = h('div', { class: 'pids' }, ...pids.map((x) => h('button', { class: x === selectedPid ? 'pid on' : 'pid', 'data-pid': x, onclick: () => renderMemoryTab(o, x) }, `${x} ${t(mem.comm(x) ?? '')}`)));
  if (selectedPid === undefined) {
    clear($('memory'), h('p', {}, 'No process with memory in this checkpoint.'));
    return;
  }
  const pm = mem.forPid(selectedPid);
  const regions = pm.regions();
  const kinds = [...new Set(regions.map((r) => r.label))];
  const present = regions.reduce((n, r) => n + r.pagesPresent, 0);
  const pages = regions.reduce((n, r) => n + r.pages, 0);
  const dump = h('div', { id: 'hexdump', class: 'hexdump' }, h('p', { class: 'muted' }, 'Click a region to see its bytes.'));
  clear(
    $('memory'),
    picker,
    h('p', {}, `pid ${selectedPid}: ${regions.length} regions, ${byteSize(pages * mem.pageSize)} mapped, ${byteSize(present * mem.pageSize)} dumped (private ${byteSize(pm.privateBytes)}, shared ${byteSize(pm.sharedBytes)})`),
    legend(kinds),
    h(
      'div',
      { class: 'memgrid' },
      h('div', { class: 'scroll mapbox' }, memoryMap(regions, mem.pageSize, (r) => void showRegion(o, selectedPid!, r))),
      dump,
    ),
  );
}

async function showRegion(o: Opened, pid: number, r: MemoryRegion): Promise<void> {
  const run = o.memory!.forPid(pid).layout(r.start, r.end).find((x) => x.present);
  await showHexdump(o, pid, run ? run.start : r.start, 0);
}

const DUMP_BYTES = 1024;

/** A hexdump around `address` (the match, `length` bytes, highlighted). */
async function showHexdump(o: Opened, pid: number, address: bigint, length: number): Promise<void> {
  const mem = o.memory!.forPid(pid);
  const start = length ? (address - 256n) & ~15n : address & ~15n;
  const region = mem.regionAt(address);
  const from = region && start < region.start ? region.start : start;
  const end = region && from + BigInt(DUMP_BYTES) > region.end ? region.end : from + BigInt(DUMP_BYTES);
  const box = document.getElementById('hexdump');
  if (!box) return;
  clear(box, h('p', { class: 'muted' }, `reading ${hex(from)}…`));
  const p = progress('Reading memory');
  try {
    const res = await mem.readDetailed(from, Number(end - from));
    const rows: HTMLElement[] = [];
    for (let off = 0; off < res.bytes.length; off += 16) {
      const a = from + BigInt(off);
      const hit = length > 0 && a + 16n > address && a < address + BigInt(length);
      const missing = res.missing.some((m) => a >= m.address && a < m.address + BigInt(m.length));
      rows.push(h('div', { class: hit ? 'row hit' : missing ? 'row missing' : 'row' }, hexRow(a, res.bytes.subarray(off, off + 16))));
    }
    const more = end < (region?.end ?? end) ? h('button', { onclick: () => void showHexdump(o, pid, end, 0) }, 'next 1 KiB') : null;
    clear(
      box,
      h('h3', {}, `pid ${pid} ${hex(from)}–${hex(end)}`, region ? ` · ${region.perms} ${region.label}${region.path ? ' ' + t(region.path) : ''}` : ' · not mapped'),
      res.missing.length ? h('p', { class: 'muted' }, `not in the checkpoint (shown as zeros): ${res.missing.map((m) => `${hex(m.address)}+${m.length} ${m.reason}`).join(', ')}`) : null,
      h('pre', { 'data-address': hex(from) }, ...rows),
      more,
    );
    const pre = box.querySelector('pre')!;
    const hit = box.querySelector<HTMLElement>('.row.hit');
    if (hit) pre.scrollTop = hit.offsetTop - pre.offsetTop - pre.clientHeight / 2;
  } catch (e) {
    clear(box, h('p', { class: 'error' }, errorText(e)));
  } finally {
    p.end();
  }
}

// ---------------------------------------------------------------- search

let searchWorker: Worker | undefined;

function stopSearch(note: string): void {
  if (!searchWorker) return;
  searchWorker.terminate();
  searchWorker = undefined;
  $('searchsummary').textContent = note;
  document.body.dataset.search = 'cancelled';
}

function startSearch(): void {
  const o = current;
  if (!o) return;
  stopSearch('');
  const mode = ($('mode') as HTMLSelectElement).value as SearchMode;
  const text = ($('pattern') as HTMLInputElement).value;
  if (!text) return;
  const list = $('results');
  clear(list);
  const summary = $('searchsummary');
  summary.textContent = 'searching…';
  document.body.dataset.search = 'running';
  const w = new Worker(workerUrl);
  searchWorker = w;
  const p = progress(`Searching ${o.file.name}`, () => {
    stopSearch('cancelled');
    p.end();
  });
  const limit = 2000;
  w.onmessage = (ev: MessageEvent<FromWorker>) => {
    const m = ev.data;
    if (m.op === 'progress') p.update(m.position, m.total);
    else if (m.op === 'matches') {
      for (const x of m.items) list.append(resultItem(o, x));
      summary.textContent = `${m.total} match${m.total === 1 ? '' : 'es'} so far…`;
    } else if (m.op === 'done') {
      summary.textContent = `${m.total} match${m.total === 1 ? '' : 'es'}${m.total > limit ? ` (first ${limit} listed)` : ''}, ${m.ms} ms`;
      document.body.dataset.search = 'done';
      w.terminate();
      searchWorker = undefined;
      p.end();
    } else if (m.op === 'error') {
      summary.textContent = m.message;
      summary.classList.add('error');
      document.body.dataset.search = 'error';
      w.terminate();
      searchWorker = undefined;
      p.end();
    }
  };
  summary.classList.remove('error');
  w.postMessage({ op: 'search', blob: o.file, label: o.file.name, mode, text, ignoreCase: ($('icase') as HTMLInputElement).checked, limit } satisfies ToWorker);
}

function resultItem(o: Opened, x: FoundMatch): HTMLElement {
  const where = x.pid !== null ? `pid ${x.pid} ${x.address}` : `${x.label} ${x.object ?? ''}`;
  const li = h(
    'li',
    { 'data-pid': x.pid ?? '', 'data-address': x.address ?? '' },
    h('button', { class: 'linkish' }, where),
    ` ${x.label} · `,
    h('code', {}, x.text),
    h('span', { class: 'muted' }, ` · ${imageName(x.file) ?? x.file}+${hex(x.fileOffset)}`),
  );
  li.querySelector('button')!.addEventListener('click', () => {
    if (x.pid !== null && x.address !== null) openHexdump(o, x.pid, BigInt(x.address), x.length);
  });
  return li;
}

// ---------------------------------------------------------------- tabs, file input, drop

let currentTab = 'overview';
/** The checkpoint whose root file-system changes were read (read when the tab is first shown: a pass over a compressed archive). */
let rootfsShown: Opened | undefined;
function showTab(name: string): void {
  currentTab = name;
  if (name === 'rootfs' && current && rootfsShown !== current) {
    rootfsShown = current;
    void renderRootfs(current);
  }
  if (name === 'findings' && current && findingsShown !== current) {
    findingsShown = current;
    void renderFindings(current);
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav button[data-tab]')) b.classList.toggle('on', b.dataset.tab === name);
  for (const sec of document.querySelectorAll<HTMLElement>('main > section')) sec.hidden = sec.id !== `tab-${name}`;
}

function init(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav button[data-tab]')) b.addEventListener('click', () => showTab(b.dataset.tab!));
  const input = $('file') as HTMLInputElement;
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) void openFile(f);
  });
  const drop = document.body;
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('dragging');
    const f = ev.dataTransfer?.files[0];
    if (f) void openFile(f);
  });
  $('cancel').addEventListener('click', () => activeTask?.cancel());
  $('searchform').addEventListener('submit', (ev) => {
    ev.preventDefault();
    startSearch();
  });
  $('stopsearch').addEventListener('click', () => searchWorker && activeTask?.cancel());
  showTab('overview');
  document.body.dataset.state = 'ready';
}

init();
