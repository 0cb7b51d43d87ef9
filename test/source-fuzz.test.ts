import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tarBytesSource, readFiles } from '../src/source/memory.js';
import { walkTarStream } from '../src/source/tar.js';
import { CkptError } from '../src/errors.js';

const none = join(__dirname, '..', 'testdata', 'podman', 'procs-none.tar');
// Only the first 64 KiB: headers and small images, where the parsing happens.
const real = existsSync(none) ? new Uint8Array(readFileSync(none).subarray(0, 65536)) : new Uint8Array(1024);

async function onlyOwnErrors(bytes: Uint8Array): Promise<void> {
  try {
    const s = await tarBytesSource('fuzz.tar', bytes);
    await readFiles(s, () => true);
  } catch (e) {
    if (!(e instanceof CkptError)) throw e;
    expect(e.message).toMatch(/^fuzz\.tar/);
  }
  try {
    await walkTarStream((async function* () { yield bytes; })(), 'fuzz.tar', () => true, async (_e, body) => {
      for await (const _ of body);
    });
  } catch (e) {
    if (!(e instanceof CkptError)) throw e;
  }
}

describe('tar reading never fails with anything but CkptError', () => {
  it('on random bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 4096 }), onlyOwnErrors), { numRuns: 300 });
  });

  it('on a real archive with bytes changed, cut or inserted', async () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(real.length - 1), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(real.length - 1), value: fc.constant(0) }),
      fc.record({ kind: fc.constant('octal' as const), at: fc.nat(Math.floor(real.length / 512) - 1), value: fc.integer({ min: 0, max: 255 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 8 }), async (muts) => {
        let b = new Uint8Array(real);
        for (const m of muts) {
          if (m.kind === 'set') b[m.at] = m.value;
          else if (m.kind === 'cut') b = b.subarray(0, m.at);
          else if (m.at * 512 + 130 < b.length) b[m.at * 512 + 124 + (m.value % 11)] = 0x30 + (m.value % 8); // size field digits
        }
        await onlyOwnErrors(b);
      }),
      { numRuns: 300 },
    );
  });
});
