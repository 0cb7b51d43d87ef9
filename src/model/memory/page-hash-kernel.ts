/**
 * The page hash kernel: 16 lanes of 32 bits over a page's 32-bit words, lane j taking the words
 * i with i mod 16 = j, each step `h = (h ^ word) * 0x01000193` (for a fixed word a bijection of
 * h, for a fixed h a bijection of the word: a page that differs in one word always ends with
 * another lane value). The lanes are folded into a 53-bit number (exact in a double).
 *
 * It runs as a tiny WebAssembly SIMD module (built below, byte by byte: four i32x4 accumulators,
 * 64 bytes per step) where WebAssembly is available (Node, browsers, Deno), else as plain JS that
 * computes the very same values. Runtime-neutral: no Node module.
 */

const PRIME = 0x01000193;
/** Initial lane values. */
const SEEDS = [
  0x811c9dc5, 0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f, 0x165667b1, 0xd3a2646c, 0xfd7046c5, 0xb55a4f09, 0x61c88647, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

export interface PageHashKernel {
  /** A scratch area that `hash` reads fastest from (bytes placed there are not copied again). */
  readonly scratch: Uint8Array;
  /** Hashes `count` whole pages of `bytes` (any alignment) into out[at…]. */
  hash(bytes: Uint8Array, count: number, out: Float64Array, at: number): void;
}

function fold(l: ArrayLike<number>, base: number): number {
  let a = 0;
  let b = 0;
  for (let j = 0; j < 8; j++) a = Math.imul(a ^ (a >>> 15), 0x85ebca6b) ^ Math.imul(l[base + j]! | 0, 0xc2b2ae35);
  for (let j = 8; j < 16; j++) b = Math.imul(b ^ (b >>> 15), 0x85ebca6b) ^ Math.imul(l[base + j]! | 0, 0xc2b2ae35);
  a = Math.imul(a ^ (a >>> 16), 0x7feb352d);
  b = Math.imul(b ^ (b >>> 15), 0x846ca68b);
  return (a >>> 0) * 0x200000 + ((b ^ (b >>> 16)) >>> 11);
}

/** Plain JS: the same function, for runtimes without WebAssembly. */
function jsKernel(pageSize: number, scratchSize: number): PageHashKernel {
  const scratch = new Uint8Array(scratchSize);
  const lanes = new Int32Array(16);
  const pageWords = pageSize >>> 2;
  return {
    scratch,
    hash(bytes, count, out, at) {
      let src = bytes;
      if (src.byteOffset % 4 !== 0) {
        src = new Uint8Array(count * pageSize);
        src.set(bytes.subarray(0, count * pageSize));
      }
      const w = new Int32Array(src.buffer, src.byteOffset, count * pageWords);
      for (let p = 0; p < count; p++) {
        for (let j = 0; j < 16; j++) lanes[j] = SEEDS[j]! | 0;
        const end = (p + 1) * pageWords;
        for (let i = p * pageWords; i < end; i += 16) for (let j = 0; j < 16; j++) lanes[j] = Math.imul(lanes[j]! ^ w[i + j]!, PRIME);
        out[at + p] = fold(lanes, 0);
      }
    },
  };
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

function i32x4Const(vals: number[]): number[] {
  const b: number[] = [0xfd, 0x0c];
  for (const v of vals) b.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  return b;
}

/**
 * (func (param ptr pages out) (local end i32) (local acc0 acc1 acc2 acc3 prime v128)
 *   for each page: acc_k = seeds; do { acc_k = (acc_k ^ load(ptr + 16k)) * prime; ptr += 64 } while ptr != end;
 *   store acc0..acc3 at out; out += 64)
 */
function wasmBytes(pageSize: number): Uint8Array {
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const load = (offset: number) => [0xfd, 0x00, 0x04, ...leb(offset)];
  const store = (offset: number) => [0xfd, 0x0b, 0x04, ...leb(offset)];
  const xor = [0xfd, 0x51];
  const mul = [0xfd, 0xb5, 0x01];
  const body: number[] = [
    // prime = splat(PRIME)
    0x41, ...sleb(PRIME | 0), 0xfd, 0x11, ...set(8),
    0x02, 0x40, // block
    0x03, 0x40, // loop (pages)
    ...get(1), 0x45, 0x0d, 0x01, // if pages == 0: br block
    ...i32x4Const(SEEDS.slice(0, 4)), ...set(4),
    ...i32x4Const(SEEDS.slice(4, 8)), ...set(5),
    ...i32x4Const(SEEDS.slice(8, 12)), ...set(6),
    ...i32x4Const(SEEDS.slice(12, 16)), ...set(7),
    ...get(0), 0x41, ...sleb(pageSize), 0x6a, ...set(3), // end = ptr + pageSize
    0x03, 0x40, // loop (words)
    ...get(4), ...get(0), ...load(0), ...xor, ...get(8), ...mul, ...set(4),
    ...get(5), ...get(0), ...load(16), ...xor, ...get(8), ...mul, ...set(5),
    ...get(6), ...get(0), ...load(32), ...xor, ...get(8), ...mul, ...set(6),
    ...get(7), ...get(0), ...load(48), ...xor, ...get(8), ...mul, ...set(7),
    ...get(0), 0x41, 0xc0, 0x00, 0x6a, ...set(0), // ptr += 64
    ...get(0), ...get(3), 0x47, 0x0d, 0x00, // br_if words (ptr != end)
    0x0b, // end loop words
    ...get(2), ...get(4), ...store(0),
    ...get(2), ...get(5), ...store(16),
    ...get(2), ...get(6), ...store(32),
    ...get(2), ...get(7), ...store(48),
    ...get(2), 0x41, 0xc0, 0x00, 0x6a, ...set(2), // out += 64
    ...get(1), 0x41, 0x01, 0x6b, ...set(1), // pages -= 1
    0x0c, 0x00, // br pages
    0x0b, // end loop pages
    0x0b, // end block
    0x0b, // end func
  ];
  const locals = [0x02, 0x01, 0x7f, 0x05, 0x7b];
  const func = [...locals, ...body];
  const mod = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00]),
    ...section(3, [0x01, 0x00]),
    ...section(5, [0x01, 0x00, 0x01]),
    ...section(7, [0x02, 0x01, 0x68, 0x00, 0x00, 0x01, 0x6d, 0x02, 0x00]),
    ...section(10, [0x01, ...leb(func.length), ...func]),
  ];
  return new Uint8Array(mod);
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

interface WasmExports {
  h(ptr: number, pages: number, out: number): void;
  m: { buffer: ArrayBuffer; grow(pages: number): number };
}

function wasmKernel(pageSize: number, scratchSize: number): PageHashKernel | undefined {
  const WA = (globalThis as { WebAssembly?: { Module: new (b: Uint8Array) => unknown; Instance: new (m: unknown, i: object) => { exports: unknown } } }).WebAssembly;
  if (!WA) return undefined;
  let ex: WasmExports;
  try {
    ex = new WA.Instance(new WA.Module(wasmBytes(pageSize)), {}).exports as WasmExports;
  } catch {
    return undefined; // no SIMD: the JS kernel
  }
  const maxPages = Math.floor(scratchSize / pageSize);
  const outBytes = maxPages * 64;
  const need = scratchSize + outBytes;
  const have = ex.m.buffer.byteLength;
  if (need > have) ex.m.grow(Math.ceil((need - have) / 65536));
  const mem = ex.m.buffer;
  const scratch = new Uint8Array(mem, 0, scratchSize);
  const lanes = new Int32Array(mem, scratchSize, maxPages * 16);
  return {
    scratch,
    hash(bytes, count, out, at) {
      for (let done = 0; done < count; ) {
        const n = Math.min(maxPages, count - done);
        const part = bytes.subarray(done * pageSize, (done + n) * pageSize);
        // bytes already in the scratch area (a read straight into it) are hashed in place
        const inPlace = part.buffer === mem && part.byteOffset + part.length <= scratchSize;
        if (!inPlace) scratch.set(part);
        ex.h(inPlace ? part.byteOffset : 0, n, scratchSize);
        for (let p = 0; p < n; p++) out[at + done + p] = fold(lanes, p * 16);
        done += n;
      }
    },
  };
}

/** The fastest kernel this runtime has; `scratchSize` bytes of scratch (a multiple of the page size). */
export function pageHashKernel(pageSize: number, scratchSize: number, options: { wasm?: boolean } = {}): PageHashKernel {
  return (options.wasm !== false ? wasmKernel(pageSize, scratchSize) : undefined) ?? jsKernel(pageSize, scratchSize);
}
