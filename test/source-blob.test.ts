import { describe, expect, it } from 'vitest';
import { openAsBlob } from 'node:fs';
import { openBlobSource } from '../src/source/blob.js';
import { Checkpoint } from '../src/model/checkpoint.js';
import { searchCheckpoint } from '../src/model/memory/index.js';
import { CkptError } from '../src/errors.js';
import { fixture, procsFacts } from './helpers.js';

const facts = procsFacts();

describe('Blob sources (the web page reads a File through these)', () => {
  for (const format of ['none', 'gzip', 'zstd'] as const) {
    it(`procs-${format}.tar: processes and a planted secret, read from a Blob`, async () => {
      const blob = await openAsBlob(fixture('podman', `procs-${format}.tar`));
      let furthest = 0;
      const source = await openBlobSource(blob, `procs-${format}.tar`, { onRead: (pos, total) => ((furthest = Math.max(furthest, pos)), expect(total).toBe(blob.size)) });
      expect(source.randomAccess).toBe(format === 'none');
      const ck = await Checkpoint.open(source);
      expect(ck.processes.map((p) => [p.pid, p.comm])).toEqual(expect.arrayContaining(facts.processes.map((p) => [p.pid, p.comm])));
      expect(ck.container.name).toBe('ckpt-procs');
      const secret = facts.secrets.find((s) => s.kind === 'heap')!;
      const found: string[] = [];
      for await (const m of searchCheckpoint(source, { pattern: secret.marker })) found.push(`${m.pid}@0x${m.address!.toString(16)}`);
      expect(found).toContain(`${secret.pid}@${secret.addr}`);
      expect(furthest).toBeGreaterThan(0);
      expect(furthest).toBeLessThanOrEqual(blob.size);
    });
  }

  it('a plain tar is opened by its headers: no pages file is read', async () => {
    const blob = await openAsBlob(fixture('podman', 'procs-none.tar'));
    const source = await openBlobSource(blob);
    const pages = (await source.entries()).filter((e) => e.path.includes('pages-'));
    expect(pages.length).toBeGreaterThan(0);
    const read: string[] = [];
    const orig = source.readRange.bind(source);
    source.readRange = (p, o, n) => (read.push(p), orig(p, o, n));
    await Checkpoint.open(source);
    expect(read.filter((p) => p.includes('pages-'))).toEqual([]);
  });

  it('bad input: one CkptError naming the file and the offset; an archive cut short is salvaged', async () => {
    const bytes = new Uint8Array(await (await openAsBlob(fixture('podman', 'procs-gzip.tar'))).arrayBuffer());
    const cut = new Blob([bytes.subarray(0, bytes.length >> 1)]);
    const source = await openBlobSource(cut, 'cut.tar.gz');
    // cut short part-way: salvaged (what lies before the cut is read), the damage in problems
    const ck = await Checkpoint.open(source);
    expect(ck.label).toBe('cut.tar.gz');
    expect(ck.problems[0]).toMatchObject({ kind: 'damaged', offset: expect.any(Number) });
    expect(ck.problems[0]!.message).toMatch(/gzip/);
    expect(ck.container.name).toBeTruthy();
    await source.close();
    const junk = await openBlobSource(new Blob([new Uint8Array(1024).fill(7)]), 'junk').catch((e: unknown) => e);
    expect(junk).toBeInstanceOf(CkptError);
    expect((junk as CkptError).message).toMatch(/junk.*not a checkpoint/);
  });
});
