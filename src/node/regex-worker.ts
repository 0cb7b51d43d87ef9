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

// The worker's code, kept in sync with matchers.ts (inThreadRunner, hitsFrom); a string so that it runs
// from dist/ and from the TypeScript sources alike. Matches go out in batches as they are found;
// the worker waits while BATCHES_IN_FLIGHT batches are not taken yet (ctrl[0] counts the ones
// taken), so that a window with millions of matches holds a few batches at a time, not all.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const re = new RegExp(workerData.source, workerData.flags);
const ctrl = new Int32Array(workerData.ctrl);
const BATCH = workerData.batch, IN_FLIGHT = workerData.inFlight;
// Windows over ~1 MiB become external strings (outside the heap), which V8 frees late: a full
// collection every few windows keeps the memory of a long search flat.
let collect = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};
if (typeof globalThis.gc !== 'function') {
  try {
    require('v8').setFlagsFromString('--expose-gc');
    collect = require('vm').runInNewContext('gc');
  } catch {}
}
let windows = 0, posted = 0;
function post(msg, transfer) {
  parentPort.postMessage(msg, transfer);
  posted++;
  for (;;) {
    if (Atomics.load(ctrl, 1)) return false; // cancelled
    const taken = Atomics.load(ctrl, 0);
    if (posted - taken < IN_FLIGHT) return true;
    Atomics.wait(ctrl, 0, taken, 200);
  }
}
parentPort.on('message', (m) => {
  const b = Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength);
  const text = b.latin1Slice(0, b.length);
  let hits = [];
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
    if (hits.length >= BATCH) {
      if (!post({ id: m.id, hits, last: false })) return;
      hits = [];
    }
  }
  post({ id: m.id, hits, last: true, buf: m.buf }, [m.buf.buffer]);
  if (++windows % 8 === 0) collect();
});
`;

export interface WorkerRunnerOptions {
  /** Longest time one window may take, in milliseconds (default 10000); waiting for the consumer does not count. */
  timeoutMs?: number;
}

/** Matches per message from the worker, and messages the consumer may leave untaken. */
const BATCH = 512;
const IN_FLIGHT = 4;

interface Job {
  id: number;
  kib: number;
  batches: WindowHit[][];
  done: boolean;
  error?: Error;
  wake?: () => void;
  /** The consumer stopped reading: batches still coming are taken and dropped. */
  abandoned?: boolean;
}

export function workerRegexRunner(re: RegExp, options: WorkerRunnerOptions = {}): RegexRunner {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const flags = re.flags.replace(/[gy]/g, '') + 'g';
  let worker: Worker | undefined;
  let failed: Error | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const jobs: Job[] = [];
  let nextId = 0;
  const ctrlBuf = new SharedArrayBuffer(8);
  const ctrl = new Int32Array(ctrlBuf);
  let received = 0;
  let taken = 0;
  // window buffers go to the worker and come back (transferred, not copied), to be used again
  const spare: ArrayBuffer[] = [];

  const wakeAll = () => {
    for (const j of jobs) {
      const w = j.wake;
      j.wake = undefined;
      w?.();
    }
  };
  const fail = (e: Error) => {
    failed = e;
    if (timer) clearTimeout(timer);
    timer = undefined;
    Atomics.store(ctrl, 1, 1);
    Atomics.notify(ctrl, 0);
    const w = worker;
    worker = undefined;
    if (w) void w.terminate();
    for (const j of jobs) j.error ??= e;
    wakeAll();
    jobs.splice(0);
  };
  // the time limit runs while the worker has a window and is not waiting for the consumer
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const head = jobs[0];
    if (!head || received - taken >= IN_FLIGHT) return;
    timer = setTimeout(() => {
      fail(
        new CkptError(
          `the regular expression /${re.source}/ ran for more than ${timeoutMs / 1000} s on one ${head.kib} KiB window of memory and was stopped (catastrophic backtracking? avoid nested quantifiers such as (a+)+)`,
        ),
      );
    }, timeoutMs);
  };
  const start = () => {
    // a small heap: the worker holds one window string and a few batches at a time
    const w = new Worker(WORKER_CODE, {
      eval: true,
      workerData: { source: re.source, flags, ctrl: ctrlBuf, batch: BATCH, inFlight: IN_FLIGHT },
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 },
      // none of the parent's flags: the code is CommonJS whatever the parent was started with
      // (`node --input-type=module -e`), and V8 flags on its command line (--max-old-space-size,
      // --expose-gc, ...) would make the worker fail to start
      execArgv: [],
    });
    w.unref();
    w.on('message', (m: { id: number; hits: WindowHit[]; last: boolean; buf?: Uint8Array }) => {
      received++;
      const job = jobs.find((j) => j.id === m.id);
      if (m.buf) spare.push(m.buf.buffer as ArrayBuffer);
      if (job && m.last) {
        job.done = true;
        jobs.splice(jobs.indexOf(job), 1);
      }
      if (job && !job.abandoned) {
        job.batches.push(m.hits);
        const wk = job.wake;
        job.wake = undefined;
        wk?.();
      } else take(); // nobody wants it any more
      arm();
    });
    w.on('error', (e: Error & { code?: string }) => {
      fail(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new CkptError(`the regular expression /${re.source}/ ran out of memory on one window of memory and was stopped`) : e);
    });
    return w;
  };
  const take = () => {
    taken++;
    Atomics.store(ctrl, 0, taken);
    Atomics.notify(ctrl, 0);
    if (!timer) arm();
  };

  async function* hitsOf(job: Job): AsyncGenerator<WindowHit[]> {
    let left = true;
    try {
      for (;;) {
        const b = job.batches.shift();
        if (b !== undefined) {
          if (b.length) yield b;
          take();
          continue;
        }
        if (job.error) throw job.error;
        if (job.done) {
          left = false;
          return;
        }
        await new Promise<void>((r) => (job.wake = r));
      }
    } finally {
      if (left) {
        // the consumer went away: what the worker still sends for this window is dropped
        for (const _ of job.batches.splice(0)) take();
        job.abandoned = true;
      }
    }
  }

  return {
    run(window: Uint8Array, from: number, limit: number, maxLength: number, context: number): AsyncIterable<WindowHit[]> {
      if (failed) {
        const e = failed;
        return (async function* () {
          throw e;
        })();
      }
      const w = (worker ??= start());
      let ab = spare.pop();
      if (!ab || ab.byteLength < window.length) ab = new ArrayBuffer(Math.max(window.length + (window.length >> 2), 4 << 20));
      const copy = new Uint8Array(ab, 0, window.length);
      copy.set(window);
      const job: Job = { id: nextId++, kib: Math.round(window.length / 1024), batches: [], done: false };
      jobs.push(job);
      if (jobs.length === 1) arm();
      w.postMessage({ id: job.id, buf: copy, from, limit, maxLength, context }, [ab]);
      return hitsOf(job);
    },
    async close() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      failed ??= new CkptError('the regex search was closed');
      Atomics.store(ctrl, 1, 1);
      Atomics.notify(ctrl, 0);
      const w = worker;
      worker = undefined;
      for (const j of jobs) j.error ??= failed;
      wakeAll();
      if (w) await w.terminate();
    },
  };
}
