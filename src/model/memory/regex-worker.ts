/**
 * Node only: runs a user's regular expression in a worker thread, window by window, with a time
 * limit per window. V8's regex engine backtracks and cannot be interrupted, so a catastrophic
 * pattern such as /(a+)+$/ over a run of "a"s would hang the thread that runs it; here that
 * thread is a worker, and it is terminated when one window (at most 4 MiB) takes longer than the
 * limit. The search then fails with a one-line error naming the limit.
 */
import { Worker } from 'node:worker_threads';
import { CkptError } from '../../errors.js';
import type { RegexMatches, RegexRunner } from './matchers.js';

// The worker's code, kept in sync with matchers.ts#regexScan (a string so that it runs from dist/
// and from the TypeScript sources alike).
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const re = new RegExp(workerData.source, workerData.flags);
parentPort.on('message', (m) => {
  const b = Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength);
  const text = b.latin1Slice(0, b.length);
  const out = [];
  re.lastIndex = m.from;
  for (;;) {
    const x = re.exec(text);
    if (!x || x.index > m.limit) break;
    const len = x[0].length;
    if (len === 0) { re.lastIndex = x.index + 1; continue; }
    out.push(x.index, Math.min(len, m.maxLength), len > m.maxLength ? 1 : 0);
  }
  parentPort.postMessage({ out, buf: m.buf }, [m.buf.buffer]);
});
`;

export interface WorkerRunnerOptions {
  /** Longest time one window may take, in milliseconds (default 10000). */
  timeoutMs?: number;
}

export function workerRegexRunner(re: RegExp, options: WorkerRunnerOptions = {}): RegexRunner {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const flags = re.flags.replace(/[gy]/g, '') + 'g';
  let worker: Worker | undefined;
  let failed: Error | undefined;
  // window buffers go to the worker and come back (transferred, not copied), to be used again
  const spare: ArrayBuffer[] = [];
  const start = () => {
    // a small heap: the worker holds one window string at a time, and garbage is collected early
    const w = new Worker(WORKER_CODE, { eval: true, workerData: { source: re.source, flags }, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
    w.unref();
    return w;
  };
  return {
    run(window: Uint8Array, from: number, limit: number, maxLength: number): Promise<RegexMatches> {
      if (failed) return Promise.reject(failed);
      const w = (worker ??= start());
      let ab = spare.pop();
      if (!ab || ab.byteLength < window.length) ab = new ArrayBuffer(Math.max(window.length, 4 << 20));
      const copy = new Uint8Array(ab, 0, window.length);
      copy.set(window);
      return new Promise<RegexMatches>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          w.off('message', onMessage);
          w.off('error', onError);
        };
        const onMessage = (m: { out: RegexMatches; buf: Uint8Array }) => {
          done();
          spare.push(m.buf.buffer as ArrayBuffer);
          resolve(m.out);
        };
        const onError = (e: Error & { code?: string }) => {
          done();
          worker = undefined;
          failed = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new CkptError(`the regular expression /${re.source}/ ran out of memory on one window of memory and was stopped`) : e;
          reject(failed);
        };
        const timer = setTimeout(() => {
          done();
          failed = new CkptError(
            `the regular expression /${re.source}/ ran for more than ${timeoutMs / 1000} s on one ${Math.round(window.length / 1024)} KiB window of memory and was stopped (catastrophic backtracking? avoid nested quantifiers such as (a+)+)`,
          );
          worker = undefined;
          void w.terminate();
          reject(failed);
        }, timeoutMs);
        w.on('message', onMessage);
        w.on('error', onError);
        w.postMessage({ buf: copy, from, limit, maxLength }, [ab]);
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}
