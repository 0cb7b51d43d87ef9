// The web page on a big archive, in Chromium (not a test: speed and memory figures).
//   node scripts/web-bench.mjs [archive ...]   (default: /srv/ckpt-lab/out/bench-{none,gzip,zstd}.tar)
// For each archive: the time the page takes to open it (document.body.dataset.openMs: File picked
// -> overview drawn), then a literal and a regex search of every process's memory, sampling the
// tab's memory every 100 ms: the RSS of Chromium's renderer processes (the page and its workers
// run there) and the JS heap (CDP Performance.getMetrics). Needs `npm run web` first (done here).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const archives = process.argv.slice(2).length ? process.argv.slice(2) : ['none', 'gzip', 'zstd'].map((f) => `/srv/ckpt-lab/out/bench-${f}.tar`);
const LITERAL = 'BENCH-NEEDLE-7f3a';
const REGEX = 'BENCH-TOKEN-sk_live_[0-9a-zA-Z]{24}';

const b = spawnSync(process.execPath, [join(ROOT, 'web', 'build.mjs')], { stdio: 'inherit' });
if (b.status !== 0) process.exit(1);

/** Resident memory, in bytes, of this run's renderer processes (the tab and its workers run there). */
function rendererRss(field = 'VmRSS') {
  const procs = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      procs.push({ pid: Number(pid), ppid, cmd: readFileSync(`/proc/${pid}/cmdline`, 'utf8') });
    } catch {
      // gone
    }
  }
  // this run's browser is the one with our profile; its renderers are among its descendants
  const mine = new Set(procs.filter((p) => p.cmd.includes(profile) && !p.cmd.includes('--type=')).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) (mine.add(p.pid), (grew = true));
  }
  let total = 0;
  for (const p of procs) {
    if (!mine.has(p.pid) || !p.cmd.includes('--type=renderer')) continue;
    try {
      const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

const mib = (n) => `${(n / 1048576).toFixed(0)} MiB`;
const profile = mkdtempSync(join(tmpdir(), 'ckpt-web-bench-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  for (const archive of archives) {
    if (!existsSync(archive)) {
      console.log(`${archive}: not there, skipped`);
      continue;
    }
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Performance.enable');
    const heap = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
    await page.goto(pathToFileURL(join(ROOT, 'web', 'dist', 'index.html')).href);
    const base = rendererRss();
    const baseAnon = rendererRss('RssAnon');
    await page.setInputFiles('#file', archive);
    await page.waitForFunction(() => ['open', 'error'].includes(document.body.dataset.state), null, { timeout: 600_000 });
    const state = await page.evaluate(() => document.body.dataset.state);
    if (state !== 'open') throw new Error(`${archive}: ${await page.textContent('#status')}`);
    const openMs = await page.evaluate(() => Number(document.body.dataset.openMs));
    await page.waitForFunction(() => document.body.dataset.args === 'loaded', null, { timeout: 600_000 });
    console.log(`${archive} (${mib(statSync(archive).size)}): opened in ${openMs} ms; renderer RSS ${mib(base)} before, ${mib(rendererRss())} after (anonymous: ${mib(baseAnon)}, ${mib(rendererRss('RssAnon'))})`);
    for (const [mode, text] of [['literal', LITERAL], ['regex', REGEX]]) {
      await page.click('nav button[data-tab=search]');
      await page.selectOption('#mode', mode);
      await page.fill('#pattern', text);
      await page.evaluate(() => delete document.body.dataset.search);
      let peakRss = 0;
      let peakHeap = 0;
      let peakAnon = 0;
      const timer = setInterval(() => {
        peakRss = Math.max(peakRss, rendererRss());
        peakAnon = Math.max(peakAnon, rendererRss('RssAnon'));
      }, 100);
      const heapTimer = setInterval(() => void heap().then((h) => (peakHeap = Math.max(peakHeap, h)), () => {}), 250);
      const t0 = Date.now();
      await page.click('#searchform button[type=submit]');
      await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.search ?? ''), null, { timeout: 900_000, polling: 200 });
      const ms = Date.now() - t0;
      clearInterval(timer);
      clearInterval(heapTimer);
      console.log(`  ${mode} search: ${(await page.textContent('#searchsummary')).trim()}; ${ms} ms wall; peak renderer RSS ${mib(peakRss)} (anonymous ${mib(peakAnon)}), peak page JS heap ${mib(peakHeap)}`);
    }
    await page.close();
  }
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
