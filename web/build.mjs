// Builds web/dist/index.html: one self-contained page (script, worker and style inlined), so that
// it works when opened from file:// as well as from a server. The CSP names the inline script
// and style by hash, allows workers only from blob: URLs, and has connect-src 'none'.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const t0 = performance.now();
const common = { bundle: true, format: 'iife', target: 'es2022', minify: true, write: false, legalComments: 'none', logLevel: 'warning', platform: 'browser' };

const worker = await build({ ...common, entryPoints: [join(here, 'src', 'worker.ts')] });
const workerJs = worker.outputFiles[0].text;
const main = await build({ ...common, entryPoints: [join(here, 'src', 'main.ts')], define: { WORKER_SOURCE: JSON.stringify(workerJs) } });
const script = main.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
const style = readFileSync(join(here, 'src', 'style.css'), 'utf8');

const sha = (s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
const csp = [
  "default-src 'none'",
  `script-src ${sha(script)}`,
  `style-src ${sha(style)}`,
  'worker-src blob:',
  "img-src data:",
  "connect-src 'none'",
  "form-action 'none'",
  "base-uri 'none'",
].join('; ');
const html = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('%CSP%', () => csp)
  .replace('%STYLE%', () => style)
  .replace('%SCRIPT%', () => script);
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, 'index.html.tmp'), html);
renameSync(join(dist, 'index.html.tmp'), join(dist, 'index.html'));
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`web/dist/index.html: ${kib(Buffer.byteLength(html))} (page ${kib(script.length)}, worker ${kib(workerJs.length)}) in ${Math.round(performance.now() - t0)} ms`);
