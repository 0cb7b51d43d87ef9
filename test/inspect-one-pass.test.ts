/**
 * Issue 15: `inspect --all` on a compressed archive reads it once (it read it twice: the images,
 * then the pages holding the command lines). The passes are counted on the real source; the
 * command lines read in the one pass are those read by positioned reads from the plain archive.
 */
import { describe, expect, it } from 'vitest';
import { collectInspectInput, openCheckpoint, openSource, type CheckpointSource } from '../src/node/index.js';
import { ckpt, fixture, procsFacts } from './helpers.js';

const ALL = { psTree: true, psTreeCmd: true, psTreeEnv: true, files: true, sockets: true, mounts: true, stats: true, metadata: true };

/** The source with its passes counted (walk, stream and read each decompress the archive again). */
function counted(source: CheckpointSource): { source: CheckpointSource; passes: () => number } {
  let n = 0;
  const s: CheckpointSource = {
    label: source.label,
    randomAccess: source.randomAccess,
    entries: () => source.entries(),
    read: (p) => (n++, source.read(p)),
    readRange: (p, o, l, into) => (n++, source.readRange(p, o, l, into)),
    stream: (p) => (n++, source.stream(p)),
    walk: (w, v) => (n++, source.walk(w, v)),
    damage: () => source.damage?.() ?? [],
    archiveSha256: () => source.archiveSha256?.() ?? Promise.resolve(null),
    close: () => source.close(),
  };
  return { source: s, passes: () => n };
}

describe.each(['gzip', 'zstd'])('inspect --all on a %s archive', (format) => {
  it('is one pass over the archive, with the same command lines as the plain archive gives', async () => {
    const plain = await openCheckpoint(await openSource(fixture('podman', 'procs-none.tar')));
    const want = await plain.arguments();
    await plain.close();
    const c = counted(await openSource(fixture('podman', `procs-${format}.tar`), { hashArchive: true }));
    const ck = await openCheckpoint(c.source, { arguments: true });
    try {
      const input = await collectInspectInput(ck, ALL);
      expect(c.passes()).toBe(1);
      expect(input.arguments).toEqual(want);
      const facts = procsFacts();
      const longargv = facts.processes.find((p) => p.comm === 'ckpt-longargv')!.pid;
      expect(input.arguments!.get(longargv)!.argv).toContain(facts.longargv.argv_first);
      expect(input.arguments!.get(longargv)!.argv).toContain(facts.longargv.argv_last);
      expect(input.archiveSha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await ck.close();
    }
  });

  it('the CLI prints the same JSON as for the plain archive (but the archive hash and size)', () => {
    const strip = (s: string) => s.replace(/"(archive_sha256|checkpoint|compression)": "[^"]*"/g, '');
    const a = ckpt(['inspect', fixture('podman', `procs-${format}.tar`), '--all', '--format', 'json']);
    const b = ckpt(['inspect', fixture('podman', 'procs-none.tar'), '--all', '--format', 'json']);
    expect(a.code).toBe(b.code);
    expect(strip(a.stdout)).toBe(strip(b.stdout));
  });
});
