// `npm run web:serve`: serves web/dist/ on http://127.0.0.1:<port>/ (default 8710, or $PORT;
// 0 picks a free one) to preview the page. Only files inside web/dist/ are served.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), 'dist');
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png' };
const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const rel = normalize(decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
  const file = join(root, rel);
  if (!file.startsWith(root + sep)) return void res.writeHead(403).end();
  try {
    const body = await readFile(file);
    const ext = file.slice(file.lastIndexOf('.'));
    res.writeHead(200, { 'content-type': types[ext] ?? 'application/octet-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
});
server.listen(Number(process.env.PORT ?? 8710), '127.0.0.1', () => {
  const a = server.address();
  console.log(`ckpt web: http://127.0.0.1:${typeof a === 'object' && a ? a.port : ''}/ (Ctrl-C to stop)`);
});
