/**
 * The web page (web/), judged by a real browser: Debian's Chromium driven by playwright-core.
 * The page is built with `npm run web`, opened from file:// (and once from `npm run web:serve`),
 * and the committed fixtures are opened through its file input. Every request the page makes is
 * recorded: there must be none beyond the page itself (and the blob: URL of its own worker).
 * Screenshots go to tmp/web-shots/.
 *
 * Chromium: /usr/bin/chromium (or $CHROMIUM). `.ci/run` installs it and fails when it cannot;
 * elsewhere the suite is skipped with the reason printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { decodeImage } from '../src/images/index.js';
import { openSource } from '../src/node/index.js';
import { ckpt, damagedDiffCopy, fixture, procsFacts, ROOT } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`test/web.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);

const facts = procsFacts();
const SHOTS = join(ROOT, 'tmp', 'web-shots');
const PAGE = join(ROOT, 'web', 'dist', 'index.html');
const PAGE_URL = pathToFileURL(PAGE).href;

/** What the compromised workload planted (testdata/facts/compromised.json, made by testdata/make-compromised.sh). */
interface CompromisedFacts {
  pid: number;
  rwx: { start: string; code_hex: string };
  libc_patch: { page: string; region: { path: string } };
  children: { memfd: number; deleted: number; preload: number; shell: number };
  listener: { pid: number };
  files: Record<string, string>;
}

let ctx: BrowserContext;
let profile: string;

/** Requests of one page: every URL, and the ones that are not the page's own. */
function recordRequests(page: Page, own: (url: string) => boolean): { all: string[]; foreign: string[] } {
  const rec = { all: [] as string[], foreign: [] as string[] };
  page.on('request', (r) => {
    rec.all.push(r.url());
    if (!own(r.url())) rec.foreign.push(r.url());
  });
  return rec;
}

/** Console messages about the CSP (a violation is a bug in the page or the build). */
function cspErrors(page: Page): string[] {
  const out: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) out.push(m.text());
  });
  page.on('pageerror', (e) => out.push(`page error: ${e.message}`));
  return out;
}

const ownFile = (url: string) => url === PAGE_URL || url.startsWith('blob:');

async function openFixture(page: Page, name: string, dir = 'podman'): Promise<void> {
  await openPath(page, fixture(dir, name));
}

async function openPath(page: Page, path: string): Promise<void> {
  const name = path.slice(path.lastIndexOf('/') + 1);
  await page.setInputFiles('#file', path);
  await page.waitForFunction(() => document.body.dataset.state === 'open' || document.body.dataset.state === 'error', null, { timeout: 60_000 });
  expect(await page.textContent('#status')).toContain(name);
  expect(await page.evaluate(() => document.body.dataset.state)).toBe('open');
}

async function search(page: Page, mode: 'literal' | 'regex' | 'hex', text: string): Promise<{ pid: string; address: string; text: string }[]> {
  await page.click('nav button[data-tab=search]');
  await page.selectOption('#mode', mode);
  await page.fill('#pattern', text);
  await page.evaluate(() => delete document.body.dataset.search);
  await page.click('#searchform button[type=submit]');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.search ?? ''), null, { timeout: 60_000 });
  expect(await page.evaluate(() => document.body.dataset.search), (await page.textContent('#searchsummary')) ?? '').toBe('done');
  return page.$$eval('#results li', (lis) => lis.map((li) => ({ pid: li.getAttribute('data-pid')!, address: li.getAttribute('data-address')!, text: li.querySelector('code')?.textContent ?? '' })));
}

describe.skipIf(!hasChromium)('the web page in Chromium', () => {
  beforeAll(async () => {
    const b = spawnSync(process.execPath, [join(ROOT, 'web', 'build.mjs')], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    mkdirSync(SHOTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'ckpt-chromium-'));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  for (const format of ['none', 'gzip', 'zstd'] as const) {
    it(`opens procs-${format}.tar from file://: the tree shows the fixture's pids and names, a search finds the planted secrets`, async () => {
      const page = await ctx.newPage();
      const requests = recordRequests(page, ownFile);
      const csp = cspErrors(page);
      await page.goto(PAGE_URL);
      await openFixture(page, `procs-${format}.tar`);
      await page.screenshot({ path: join(SHOTS, `overview-${format}.png`) });
      expect(await page.textContent('#overview-facts')).toContain(facts.container.name);

      await page.click('nav button[data-tab=processes]');
      await page.waitForFunction(() => document.body.dataset.args === 'loaded', null, { timeout: 60_000 });
      for (const p of facts.processes) {
        const node = page.locator(`svg.ptree g.proc[data-pid="${p.pid}"]`);
        expect(await node.count(), `pid ${p.pid} in the tree diagram`).toBe(1);
        expect(await node.getAttribute('data-comm')).toBe(p.comm);
        expect(await page.locator(`details.proc[data-pid="${p.pid}"] > summary .comm`).textContent()).toBe(p.comm);
      }
      // argv read from memory: the main process's environment holds the container's secret
      expect(await page.locator('details.proc[data-pid="1"] ul.env').first().textContent()).toContain(facts.container.env_secret);
      await page.screenshot({ path: join(SHOTS, `processes-${format}.png`) });

      const heap = facts.secrets.find((s) => s.kind === 'heap')!;
      const found = await search(page, 'literal', heap.marker);
      expect(found.map((f) => `${f.pid}@${f.address}`)).toContain(`${heap.pid}@${heap.addr}`);
      // the result opens the hexdump at the match
      await page.click(`#results li[data-address="${heap.addr}"] button`);
      await page.waitForSelector('#hexdump .row.hit');
      expect((await page.locator('#hexdump .row.hit').allTextContents()).join('')).toContain(heap.marker.slice(0, 16));
      await page.screenshot({ path: join(SHOTS, `search-${format}.png`) });

      expect(csp).toEqual([]);
      expect(requests.foreign).toEqual([]);
      expect(requests.all[0]).toBe(PAGE_URL);
      await page.close();
    });
  }

  it('every planted secret is found at its address, by text, regex and hex', async () => {
    const page = await ctx.newPage();
    const requests = recordRequests(page, ownFile);
    await page.goto(PAGE_URL);
    await openFixture(page, 'procs-none.tar');
    for (const s of facts.secrets) {
      const found = await search(page, 'literal', s.marker);
      expect(found.map((f) => `${f.pid}@${f.address}`), s.kind).toContain(`${s.pid}@${s.addr}`);
    }
    const regex = await search(page, 'regex', 'CKPT-[A-Z]+-SECRET-[0-9a-f]{4}');
    for (const s of facts.secrets) expect(regex.map((f) => `${f.pid}@${f.address}`), s.kind).toContain(`${s.pid}@${s.addr}`);
    const heap = facts.secrets.find((x) => x.kind === 'heap')!;
    const hexText = [...Buffer.from(heap.marker)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const hexHits = await search(page, 'hex', hexText);
    expect(hexHits.map((f) => `${f.pid}@${f.address}`)).toContain(`${heap.pid}@${heap.addr}`);
    expect(requests.foreign).toEqual([]);
    await page.close();
  });

  it('Cancel stops a regex that would never end (its worker is terminated); the next search works', async () => {
    const page = await ctx.newPage();
    await page.goto(PAGE_URL);
    await openFixture(page, 'procs-none.tar');
    await page.click('nav button[data-tab=search]');
    await page.selectOption('#mode', 'regex');
    // exponential backtracking on every run of zero bytes (pages are full of them)
    await page.fill('#pattern', '(\\x00|\\x00)*\\x01');
    await page.evaluate(() => delete document.body.dataset.search);
    await page.click('#searchform button[type=submit]');
    await page.waitForSelector('#progressbox:not([hidden])');
    expect(await page.evaluate(() => document.body.dataset.search)).toBe('running');
    await page.click('#stopsearch');
    await page.waitForFunction(() => document.body.dataset.search === 'cancelled', null, { timeout: 10_000 });
    expect(await page.textContent('#searchsummary')).toBe('cancelled');
    expect(await page.isHidden('#progressbox')).toBe(true);
    const heap = facts.secrets.find((x) => x.kind === 'heap')!;
    const found = await search(page, 'literal', heap.marker);
    expect(found.map((f) => `${f.pid}@${f.address}`)).toContain(`${heap.pid}@${heap.addr}`);
    await page.close();
  });

  it('the memory map draws every region of every process (VMAs of mm-<pid>.img)', async () => {
    const source = await openSource(fixture('podman', 'procs-none.tar'));
    const page = await ctx.newPage();
    await page.goto(PAGE_URL);
    await openFixture(page, 'procs-none.tar');
    await page.click('nav button[data-tab=memory]');
    await page.waitForSelector('svg.memmap');
    const pids = await page.$$eval('.pids button', (bs) => bs.map((b) => Number(b.getAttribute('data-pid'))));
    expect(pids.length).toBeGreaterThan(3);
    for (const pid of pids) {
      await page.click(`.pids button[data-pid="${pid}"]`);
      await page.waitForSelector(`.pids button.on[data-pid="${pid}"]`);
      const mm = decodeImage(`checkpoint/mm-${pid}.img`, await source.read(`checkpoint/mm-${pid}.img`)).entries[0] as { vmas: { start: bigint; end: bigint }[] };
      const drawn = await page.$$eval('svg.memmap g.region', (gs) => gs.map((g) => `${g.getAttribute('data-start')}-${g.getAttribute('data-end')}`));
      expect(drawn, `pid ${pid}`).toEqual(mm.vmas.map((v) => `0x${v.start.toString(16)}-0x${v.end.toString(16)}`));
    }
    // clicking a region shows its bytes
    await page.click('.pids button[data-pid="1"]');
    const heapIndex = await page.$$eval('svg.memmap g.region', (gs) => gs.findIndex((g) => g.getAttribute('data-kind') === 'heap'));
    expect(heapIndex).toBeGreaterThanOrEqual(0);
    await page.click(`svg.memmap g.region[data-index="${heapIndex}"]`);
    await page.waitForSelector('#hexdump pre');
    expect(await page.textContent('#hexdump h3')).toContain('heap');
    await page.screenshot({ path: join(SHOTS, 'memory-map.png') });
    await source.close();
    await page.close();
  });

  it('files-zstd.tar: root file-system changes (with content hashes), open files and pipe peers', async () => {
    const files = JSON.parse(readFileSync(fixture('facts', 'files.json'), 'utf8')) as {
      rootfs: { modified: { path: string; content: string }[]; added: { path: string; content?: string }[]; deleted: string[] };
      fds: { pipe: { read_fd: number; write_fd: number }; write: { fd: number; path: string } };
    };
    const page = await ctx.newPage();
    const requests = recordRequests(page, ownFile);
    await page.goto(PAGE_URL);
    await openFixture(page, 'files-zstd.tar');
    await page.click('nav button[data-tab=rootfs]');
    await page.waitForFunction(() => document.body.dataset.rootfs === 'loaded', null, { timeout: 60_000 });
    const rows = await page.$$eval('#rootfs-entries tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.querySelector('[title]')?.getAttribute('title') ?? td.textContent ?? '')));
    const byPath = new Map(rows.map((r) => [r[4]!, r]));
    for (const f of [...files.rootfs.modified, ...files.rootfs.added]) {
      const row = byPath.get(f.path);
      expect(row, f.path).toBeDefined();
      if (f.content !== undefined) expect(row![5]).toBe(createHash('sha256').update(f.content).digest('hex'));
    }
    const deleted = await page.$$eval('#rootfs-deleted tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    for (const d of files.rootfs.deleted) expect(deleted).toContain(d);
    await page.screenshot({ path: join(SHOTS, 'rootfs-zstd.png') });

    await page.click('nav button[data-tab=files]');
    const fds = await page.$$eval('#openfiles tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const fd = (n: number) => fds.find((r) => r[0] === '1' && r[1] === String(n));
    expect(fd(files.fds.write.fd)?.[3]).toBe(files.fds.write.path);
    expect(fd(files.fds.pipe.read_fd)?.[2]).toBe('PIPE');
    expect(fd(files.fds.pipe.read_fd)?.[5]).toContain(`1:${files.fds.pipe.write_fd}`);
    await page.screenshot({ path: join(SHOTS, 'files-zstd.png') });
    expect(requests.foreign).toEqual([]);
    await page.close();
  });

  it('findings of the compromised fixture: each rule with the pid, address or path of its facts, as `ckpt findings` gives them', async () => {
    const f = JSON.parse(readFileSync(fixture('facts', 'compromised.json'), 'utf8')) as CompromisedFacts;
    const archive = fixture('podman', 'compromised-none.tar');
    const page = await ctx.newPage();
    const requests = recordRequests(page, ownFile);
    const csp = cspErrors(page);
    await page.goto(PAGE_URL);
    await openFixture(page, 'compromised-none.tar');
    await page.click('nav button[data-tab=findings]');
    await page.waitForFunction(() => document.body.dataset.findings !== undefined, null, { timeout: 60_000 });
    expect(await page.evaluate(() => document.body.dataset.findings)).toBe('loaded');
    const rows = await page.$$eval('#findings-table tr.finding', (trs) =>
      trs.map((tr) => ({ rule: tr.getAttribute('data-rule')!, severity: tr.getAttribute('data-severity')!, pid: tr.getAttribute('data-pid')!, address: tr.getAttribute('data-address')!, path: tr.getAttribute('data-path')! })),
    );
    const of = (rule: string) => rows.filter((r) => r.rule === rule);
    // the facts the container printed before the checkpoint (testdata/make-compromised.sh)
    expect(of('writable-executable-memory').map((r) => [r.pid, r.address, r.severity])).toEqual([[String(f.pid), f.rwx.start, 'high']]);
    expect(of('anonymous-executable-memory').map((r) => [r.pid, r.address])).toEqual([[String(f.pid), f.rwx.start]]);
    expect(of('modified-code-page').map((r) => [r.pid, r.address, r.path])).toEqual([[String(f.pid), f.libc_patch.page, f.libc_patch.region.path]]);
    expect(of('deleted-or-memfd-executable').map((r) => [r.pid, r.path])).toEqual([
      [String(f.children.memfd), 'memfd:kworker'],
      [String(f.children.deleted), f.files.deleted_exe],
    ]);
    expect(of('preload-environment').map((r) => [r.pid, r.path])).toEqual([[String(f.children.preload), f.files.preload_library]]);
    expect(of('reverse-shell').map((r) => r.pid)).toEqual([String(f.children.shell)]);
    expect(of('listener-all-interfaces').map((r) => r.pid)).toEqual([String(f.listener.pid)]);
    expect(of('setuid-file').map((r) => r.path)).toEqual([f.files.setuid]);
    expect(of('sensitive-file-changed').map((r) => r.path).sort()).toEqual([f.files.authorized_keys, f.files.cron, f.files.ld_so_preload, '/etc/passwd'].sort());
    // the same findings, in the same order, as the command line's
    const cli = JSON.parse(ckpt(['findings', archive, '--format', 'json', '--no-disassemble']).stdout) as { findings: { rule: string; severity: string; pid: number | null; address: string | null; path: string | null }[] };
    expect(rows).toEqual(cli.findings.map((x) => ({ rule: x.rule, severity: x.severity, pid: x.pid === null ? '' : String(x.pid), address: x.address ?? '', path: x.path ?? '' })));
    // the evidence: the planted code's bytes; its address opens the hexdump there
    const wx = page.locator(`#findings-table tr.finding[data-rule="writable-executable-memory"]`);
    await wx.locator('details summary').click();
    expect((await wx.locator('pre.evidence').textContent())!.replace(/\s+/g, ' ')).toContain(f.rwx.code_hex.match(/../g)!.join(' '));
    await page.screenshot({ path: join(SHOTS, 'findings.png'), clip: { x: 0, y: 0, width: 1400, height: 620 } });
    await wx.locator('button.linkish').click();
    await page.waitForSelector('#hexdump pre');
    expect(await page.getAttribute('#hexdump pre', 'data-address')).toBe(f.rwx.start);
    // the memory map outlines the writable and executable region
    expect(await page.$$eval('svg.memmap g.region.wx', (gs) => gs.map((g) => g.getAttribute('data-start')))).toEqual([f.rwx.start]);
    await page.screenshot({ path: join(SHOTS, 'findings-memory.png') });
    expect(csp).toEqual([]);
    expect(requests.foreign).toEqual([]);
    await page.close();
  });

  it('findings of a checkpoint whose diff is damaged: the intact parts, and the damage named', async () => {
    const f = JSON.parse(readFileSync(fixture('facts', 'compromised.json'), 'utf8')) as CompromisedFacts;
    const { path } = damagedDiffCopy(fixture('podman', 'compromised-none.tar'), 'etc/passwd');
    const page = await ctx.newPage();
    await page.goto(PAGE_URL);
    await openPath(page, path);
    await page.click('nav button[data-tab=findings]');
    await page.waitForFunction(() => document.body.dataset.findings !== undefined, null, { timeout: 60_000 });
    expect(await page.evaluate(() => document.body.dataset.findings)).toBe('loaded');
    expect(await page.textContent('#findings p.error')).toContain('rootfs-diff.tar');
    const rules = await page.$$eval('#findings-table tr.finding', (trs) => trs.map((tr) => `${tr.getAttribute('data-rule')} ${tr.getAttribute('data-address') || tr.getAttribute('data-path')}`));
    expect(rules).toContain(`writable-executable-memory ${f.rwx.start}`);
    expect(rules).toContain(`setuid-file ${f.files.setuid}`);
    expect(rules).not.toContain('sensitive-file-changed /etc/passwd');
    expect(await page.textContent('#overview .problems')).toContain('rootfs-diff.tar');
    await page.close();
  });

  it('queue previews: the first bytes of TCP queues (sendq, testdata/evidence) and of a unix socket and a pipe (net), next to their fds', async () => {
    const sendq = JSON.parse(readFileSync(fixture('facts', 'sendq.json'), 'utf8')) as { stream: { line: string; first: number; count: number }; receiver: { fd: number; port: number }; sender: { fd: number } };
    let stream = '';
    for (let i = sendq.stream.first; stream.length < 256; i++) stream += sendq.stream.line.replace('%d', String(i));
    const escaped = (text: string) => text.replace(/\n/g, '\\x0a');
    const page = await ctx.newPage();
    const requests = recordRequests(page, ownFile);
    await page.goto(PAGE_URL);
    await openFixture(page, 'sendq-zstd.tar', 'evidence');
    await page.waitForFunction(() => document.body.dataset.previews === 'loaded', null, { timeout: 60_000 });
    await page.click('nav button[data-tab=files]');
    const previews = async (table: string) =>
      page.$$eval(`#${table} tbody tr`, (trs) =>
        trs.flatMap((tr) => {
          const cells = [...tr.querySelectorAll('td')];
          return [...tr.querySelectorAll('.preview')].map((p) => ({ pid: cells[0]!.textContent!, fd: cells[1]!.textContent!, direction: p.getAttribute('data-direction')!, size: Number(p.getAttribute('data-size')), text: p.querySelector('code')!.textContent! }));
        }),
      );
    const sockets = await previews('sockets');
    // the receiver never read: its receive queue starts with the stream's first line
    const recv = sockets.filter((x) => x.fd === String(sendq.receiver.fd) && x.direction === 'recv');
    expect(recv).toHaveLength(1);
    expect(recv[0]!.text).toBe(escaped(stream.slice(0, 64)) + '…');
    // the sender's send queue goes on with the stream after what the receiver holds
    const send = sockets.filter((x) => x.fd === String(sendq.sender.fd) && x.direction === 'send');
    expect(send).toHaveLength(1);
    expect(send[0]!.size).toBeGreaterThan(1 << 20);
    const sendText = send[0]!.text.replace(/…$/, '').replace(/\\x0a/g, '\n');
    let full = '';
    for (let i = sendq.stream.first; full.length < recv[0]!.size + 256; i++) full += sendq.stream.line.replace('%d', String(i));
    expect(full.slice(recv[0]!.size, recv[0]!.size + sendText.length)).toBe(sendText);
    await page.screenshot({ path: join(SHOTS, 'queues-sendq.png') });

    // net: the unread payloads of the plain fixture, as the workload wrote them
    const net = JSON.parse(readFileSync(fixture('facts', 'net.json'), 'utf8')) as { tcp: { fd: number; unread?: string }[]; unix: { fd: number; unread?: string }[]; pipe: { read_fd: number; unread: string } };
    await openFixture(page, 'net-none.tar');
    await page.waitForFunction(() => document.body.dataset.previews === 'loaded', null, { timeout: 60_000 });
    const netSockets = await previews('sockets');
    const unread = [...net.tcp, ...net.unix].filter((x) => x.unread);
    expect(unread.length).toBe(5);
    for (const x of unread) expect(netSockets.filter((p) => p.pid === '1' && p.fd === String(x.fd) && p.direction === 'recv').map((p) => [p.text, p.size]), `fd ${x.fd}`).toEqual([[x.unread, x.unread!.length]]);
    const pipe = (await previews('openfiles')).filter((p) => p.pid === '1' && p.fd === String(net.pipe.read_fd));
    expect(pipe.map((p) => [p.direction, p.text])).toEqual([['recv', net.pipe.unread]]);
    await page.click('nav button[data-tab=files]');
    await page.screenshot({ path: join(SHOTS, 'queues-net.png'), fullPage: true });
    expect(requests.foreign).toEqual([]);
    await page.close();
  });

  it('served by `npm run web:serve`: one request (the page), CSP with connect-src none, a fetch is refused', async () => {
    const server: ChildProcess = spawn(process.execPath, [join(ROOT, 'web', 'serve.mjs')], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout!.on('data', (d: Buffer) => {
          const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(d.toString());
          if (m) resolve(m[0]);
        });
        server.on('exit', (c) => reject(new Error(`serve.mjs exited with ${c}`)));
      });
      const page = await ctx.newPage();
      const requests = recordRequests(page, (u) => u === url || u.startsWith('blob:'));
      const csp = cspErrors(page);
      const response = await page.goto(url);
      expect(response?.status()).toBe(200);
      const policy = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
      expect(policy).toMatch(/connect-src 'none'/);
      expect(policy).toMatch(/default-src 'none'/);
      await openFixture(page, 'procs-zstd.tar');
      expect(csp).toEqual([]);
      expect(requests.foreign).toEqual([]);
      expect(requests.all.filter((u) => !u.startsWith('blob:'))).toEqual([url]);
      // the page cannot send anything anywhere: fetch is refused by the CSP before any request
      const refused = await page.evaluate(() => fetch('http://127.0.0.1:9/x', { method: 'POST', body: 'x' }).then(() => 'sent', () => 'refused'));
      expect(refused).toBe('refused');
      expect(requests.all.filter((u) => u.includes(':9/'))).toEqual([]);
      await page.close();
    } finally {
      server.kill();
    }
  });

  it('opens an archive dropped on the page (drag and drop)', async () => {
    const page = await ctx.newPage();
    await page.goto(PAGE_URL);
    const b64 = readFileSync(fixture('podman', 'procs-gzip.tar')).toString('base64');
    const dt = await page.evaluateHandle((data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const t = new DataTransfer();
      t.items.add(new File([bytes], 'dropped.tar.gz'));
      return t;
    }, b64);
    await page.dispatchEvent('body', 'dragover', { dataTransfer: dt });
    await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
    await page.waitForFunction(() => document.body.dataset.state === 'open', null, { timeout: 60_000 });
    expect(await page.textContent('#status')).toContain('dropped.tar.gz');
    expect(await page.locator('svg.ptree g.proc').count()).toBe(facts.processes.length);
    await page.close();
  });

  it('an archive cut short opens with what is intact and the damage listed; a file that is no checkpoint gives a one-line error naming it', async () => {
    const page = await ctx.newPage();
    await page.goto(PAGE_URL);
    const bytes = readFileSync(fixture('podman', 'procs-gzip.tar'));
    await page.setInputFiles('#file', { name: 'cut.tar.gz', mimeType: 'application/gzip', buffer: bytes.subarray(0, bytes.length >> 1) });
    await page.waitForFunction(() => document.body.dataset.state === 'open', null, { timeout: 60_000 });
    const damage = (await page.textContent('.problems')) ?? '';
    expect(damage).toMatch(/Damaged or missing parts/);
    expect(damage).toMatch(/at byte \d+: .*gzip/);
    await page.goto(PAGE_URL);
    await page.setInputFiles('#file', { name: 'junk.tar.gz', mimeType: 'application/gzip', buffer: gzipSync(Buffer.from('these are not the bytes you are looking for\n'.repeat(40))) });
    await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 60_000 });
    const text = (await page.textContent('#status')) ?? '';
    expect(text).toMatch(/^junk\.tar\.gz/);
    expect(text).toMatch(/not a tar archive/);
    expect(text).not.toMatch(/\n|at .*\.js:\d+/);
    await page.close();
  });
});
