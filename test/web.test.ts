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
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { decodeImage } from '../src/images/index.js';
import { openSource } from '../src/node/index.js';
import { fixture, procsFacts, ROOT } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`test/web.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);

const facts = procsFacts();
const SHOTS = join(ROOT, 'tmp', 'web-shots');
const PAGE = join(ROOT, 'web', 'dist', 'index.html');
const PAGE_URL = pathToFileURL(PAGE).href;

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

async function openFixture(page: Page, name: string): Promise<void> {
  await page.setInputFiles('#file', fixture('podman', name));
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

  it('a damaged archive gives a one-line error naming the file', async () => {
    const page = await ctx.newPage();
    await page.goto(PAGE_URL);
    const bytes = readFileSync(fixture('podman', 'procs-gzip.tar'));
    await page.setInputFiles('#file', { name: 'cut.tar.gz', mimeType: 'application/gzip', buffer: bytes.subarray(0, bytes.length >> 1) });
    await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 60_000 });
    const text = (await page.textContent('#status')) ?? '';
    expect(text).toMatch(/^cut\.tar\.gz/);
    expect(text).not.toMatch(/\n|at .*\.js:\d+/);
    await page.close();
  });
});
