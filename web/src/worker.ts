/**
 * The page's Web Worker (one script, two jobs): zstd decompression for the page's reading passes
 * (the core's pure-JS decoder, chunks handed back with flow control), and memory search (literal, regex, hex) over
 * every process and shared memory object, streaming matches back. The page cancels a search by
 * terminating the worker, which also stops a regex that would run for ever.
 */
import { openBlobSource, searchCheckpoint, compileRegex, parseHex, isCkptError } from '../../src/index.js';
import { readStream, type ByteStream } from '../../src/source/blob.js';
import { zstdDecompressFallback } from '../../src/source/compression.js';
import { printable, toHex } from '../../src/views/hexdump.js';
import type { FoundMatch, FromWorker, ToWorker } from './protocol.js';

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

/** Output is gathered into chunks of this size before it is posted. */
const OUT_CHUNK = 1 << 20;
/** Chunks posted and not yet acknowledged before the worker waits. */
const IN_FLIGHT = 4;

let credits = IN_FLIGHT;
let wake: (() => void) | undefined;

async function zstd(blob: Blob, label: string): Promise<void> {
  let consumed = 0;
  const input = readStream(blob.stream() as unknown as ByteStream, (n) => (consumed += n));
  // output gathered into OUT_CHUNK pieces (a decoder's chunk is only valid until the next one)
  let batch = new Uint8Array(OUT_CHUNK);
  let filled = 0;
  const send = async (data: Uint8Array) => {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    credits--;
    post({ op: 'chunk', data, consumed }, [data.buffer]);
  };
  for await (const chunk of zstdDecompressFallback(input, label)) {
    let o = 0;
    while (o < chunk.length) {
      const k = Math.min(chunk.length - o, OUT_CHUNK - filled);
      batch.set(chunk.subarray(o, o + k), filled);
      filled += k;
      o += k;
      if (filled === OUT_CHUNK) {
        await send(batch);
        batch = new Uint8Array(OUT_CHUNK);
        filled = 0;
      }
    }
  }
  if (filled) await send(batch.slice(0, filled));
  post({ op: 'end' });
}

async function search(m: Extract<ToWorker, { op: 'search' }>): Promise<void> {
  const t0 = performance.now();
  let lastProgress = 0;
  let furthest = 0;
  const source = await openBlobSource(m.blob, m.label, {
    onRead: (position, total) => {
      furthest = position;
      const now = performance.now();
      if (now - lastProgress > 100) {
        lastProgress = now;
        post({ op: 'progress', position, total });
      }
    },
  });
  const pattern = m.mode === 'regex' ? compileRegex(m.text, m.ignoreCase ? 'i' : '') : m.mode === 'hex' ? parseHex(m.text) : m.text;
  let total = 0;
  let items: FoundMatch[] = [];
  let lastPost = performance.now();
  for await (const hit of searchCheckpoint(source, { pattern, maxMatchLength: 256, chunkSize: 8 << 20 })) {
    total++;
    if (total <= m.limit) {
      items.push({
        pid: hit.pid ?? null,
        address: hit.address !== undefined ? `0x${hit.address.toString(16)}` : null,
        label: hit.label,
        object: hit.object?.key ?? null,
        file: hit.file,
        fileOffset: hit.fileOffset,
        length: hit.match.length,
        text: printable(hit.match.subarray(0, 64)),
        hex: toHex(hit.match.subarray(0, 32)),
      });
    }
    const now = performance.now();
    if (items.length >= 200 || now - lastPost > 100) {
      post({ op: 'matches', items, total });
      items = [];
      lastPost = now;
    }
  }
  post({ op: 'matches', items, total });
  post({ op: 'done', total, bytes: furthest, ms: Math.round(performance.now() - t0) });
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  if (m.op === 'ack') {
    credits++;
    wake?.();
    wake = undefined;
    return;
  }
  const job = m.op === 'zstd' ? zstd(m.blob, m.label) : search(m);
  job.catch((e: unknown) => post({ op: 'error', message: isCkptError(e) ? e.message : `${m.label}: ${(e as Error).message ?? String(e)}` }));
};
