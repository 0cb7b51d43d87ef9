/**
 * Node only: runs a user's regular expression in a worker thread, window by window, with a time
 * limit per window. V8's regex engine backtracks and cannot be interrupted, so a catastrophic
 * pattern such as /(a+)+$/ over a run of "a"s would hang the thread that runs it; here that
 * thread is a worker, and it is terminated when one window (at most a few MiB) takes longer than
 * the limit. The search then fails with a one-line error naming the limit.
 *
 * Up to two windows may be queued, so that reading and decompressing the next window overlaps
 * with the regex on this one; the time limit applies to the window the worker is running.
 */
import { Worker } from 'node:worker_threads';
import { CkptError } from '../errors.js';
import type { RegexRunner, WindowHit } from '../model/memory/matchers.js';

// The worker's code, kept in sync with matchers.ts (regexScan, hitsFrom); a string so that it runs
// from dist/ and from the TypeScript sources alike.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const re = new RegExp(workerData.source, workerData.flags);
// Windows over ~1 MiB become external strings (outside the heap), which V8 frees late: a full
// collection every few windows keeps the memory of a long search flat.
let collect = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};
if (typeof globalThis.gc !== 'function') {
  try {
    require('v8').setFlagsFromString('--expose-gc');
    collect = require('vm').runInNewContext('gc');
  } catch {}
}
let windows = 0;
parentPort.on('message', (m) => {
  const b = Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength);
  const text = b.latin1Slice(0, b.length);
  const hits = [];
  re.lastIndex = m.from;
  for (;;) {
    const x = re.exec(text);
    if (!x || x.index > m.limit) break;
    const len = x[0].length;
    if (len === 0) { re.lastIndex = x.index + 1; continue; }
    const s = x.index, n = Math.min(len, m.maxLength);
    hits.push({
      index: s,
      match: m.buf.slice(s, s + n),
      before: m.buf.slice(Math.max(0, s - m.context), s),
      after: m.buf.slice(s + n, Math.min(m.buf.length, s + n + m.context)),
      truncated: len > m.maxLength,
    });
  }
  parentPort.postMessage({ hits, buf: m.buf }, [m.buf.buffer]);
  if (++windows % 8 === 0) collect();
});
`;

export interface WorkerRunnerOptions {
  /** Longest time one window may take, in milliseconds (default 10000). */
  timeoutMs?: number;
}

interface Pending {
  resolve(h: WindowHit[]): void;
  reject(e: Error): void;
  kib: number;
}

export function workerRegexRunner(re: RegExp, options: WorkerRunnerOptions = {}): RegexRunner {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const flags = re.flags.replace(/[gy]/g, '') + 'g';
  let worker: Worker | undefined;
  let failed: Error | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const queue: Pending[] = [];
  // window buffers go to the worker and come back (transferred, not copied), to be used again
  const spare: ArrayBuffer[] = [];

  const fail = (e: Error) => {
    failed = e;
    if (timer) clearTimeout(timer);
    const w = worker;
    worker = undefined;
    if (w) void w.terminate();
    for (const p of queue.splice(0)) p.reject(e);
  };
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const head = queue[0];
    if (!head) return;
    timer = setTimeout(() => {
      fail(
        new CkptError(
          `the regular expression /${re.source}/ ran for more than ${timeoutMs / 1000} s on one ${head.kib} KiB window of memory and was stopped (catastrophic backtracking? avoid nested quantifiers such as (a+)+)`,
        ),
      );
    }, timeoutMs);
  };
  const start = () => {
    // a small heap: the worker holds one window string at a time, and garbage is collected early
    const w = new Worker(WORKER_CODE, { eval: true, workerData: { source: re.source, flags }, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
      // the code is CommonJS, whatever the parent was started with (`node --input-type=module -e`)
      execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
    });
    w.unref();
    w.on('message', (m: { hits: WindowHit[]; buf: Uint8Array }) => {
      spare.push(m.buf.buffer as ArrayBuffer);
      const head = queue.shift();
      arm();
      head?.resolve(m.hits);
    });
    w.on('error', (e: Error & { code?: string }) => {
      fail(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new CkptError(`the regular expression /${re.source}/ ran out of memory on one window of memory and was stopped`) : e);
    });
    return w;
  };

  return {
    run(window: Uint8Array, from: number, limit: number, maxLength: number, context: number): Promise<WindowHit[]> {
      if (failed) return Promise.reject(failed);
      const w = (worker ??= start());
      let ab = spare.pop();
      if (!ab || ab.byteLength < window.length) ab = new ArrayBuffer(Math.max(window.length + (window.length >> 2), 4 << 20));
      const copy = new Uint8Array(ab, 0, window.length);
      copy.set(window);
      return new Promise<WindowHit[]>((resolve, reject) => {
        queue.push({ resolve, reject, kib: Math.round(window.length / 1024) });
        if (queue.length === 1) arm();
        w.postMessage({ buf: copy, from, limit, maxLength, context }, [ab]);
      });
    },
    async close() {
      if (timer) clearTimeout(timer);
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}
