import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpointFile as openCheckpoint } from '../src/node/index.js';
import { ckpt, fixture } from './helpers.js';
import { facts } from './facts.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
// eslint-disable-next-line @typescript-eslint/no-explicit-any

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ckpt-custody-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('archive hashes (chain of custody)', () => {
  it('show --hash prints sha256sum lines that sha256sum -c accepts, for every compression', () => {
    const files = ['net-none.tar', 'net-gzip.tar', 'net-zstd.tar'].map((f) => fixture('podman', f));
    const r = ckpt(['show', ...files, '--hash']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => /^[0-9a-f]{64} {2}/.test(l));
    expect(lines).toEqual(files.map((f) => `${sha(readFileSync(f))}  ${f}`));
    const list = join(tmp, 'SHA256SUMS');
    writeFileSync(list, `${lines.join('\n')}\n`);
    const check = spawnSync('sha256sum', ['-c', list], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout.split('\n').filter((l) => l.endsWith(': OK'))).toHaveLength(3);
  });

  for (const name of ['files-none.tar', 'files-gzip.tar', 'files-zstd.tar']) {
    it(`${name}: the hash comes from the pass that opened it (the file is gone when it is asked for)`, async () => {
      const copy = join(tmp, name);
      copyFileSync(fixture('podman', name), copy);
      const want = sha(readFileSync(copy));
      const ck = await openCheckpoint(copy, { hashArchive: true });
      try {
        renameSync(copy, `${copy}.moved`); // a second read of the path would fail now
        expect(await ck.source.archiveSha256!()).toBe(want);
      } finally {
        await ck.close();
      }
    });
  }

  it('inspect --metadata shows the archive hash (tree and JSON)', () => {
    const f = fixture('podman', 'files-zstd.tar');
    const want = sha(readFileSync(f));
    const tree = ckpt(['inspect', f, '--metadata']);
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stdout).toContain(`Archive SHA-256: ${want}`);
    const json = JSON.parse(ckpt(['inspect', f, '--metadata', '--format', 'json']).stdout);
    expect(json[0].metadata.archive_sha256).toBe(want);
  });
});

describe('inspect previews of queued and ghost bytes', () => {
  it('--files: the ghost file and the pipe show their first bytes, escaped', () => {
    const f = facts('files');
    const r = ckpt(['inspect', fixture('podman', 'files-none.tar'), '--files']);
    expect(r.code, r.stderr).toBe(0);
    const content = f.fds.unlinked.content as string;
    const escaped = content.replace(/\n/g, '\\x0a');
    expect(r.stdout).toContain(`content ${content.length} B: "${escaped}"`);
  });

  it('--sockets: each TCP and unix receive queue with its bytes; JSON has them too', () => {
    const f = facts('net');
    const r = ckpt(['inspect', fixture('podman', 'net-gzip.tar'), '--sockets']);
    expect(r.code, r.stderr).toBe(0);
    for (const t of f.tcp.filter((x) => x.unread)) expect(r.stdout).toContain(`recv ${t.unread!.length} B: "${t.unread}"`);
    for (const u of f.unix.filter((x) => x.unread)) expect(r.stdout).toContain(`recv ${u.unread!.length} B: "${u.unread}"`);
    const json = JSON.parse(ckpt(['inspect', fixture('podman', 'net-gzip.tar'), '--sockets', '--files', '--format', 'json']).stdout);
    const socks = json[0].sockets[0].open_sockets as { data: { fd: number }; preview?: { direction: string; data: string; size: number; truncated: boolean }[] }[];
    const t = f.tcp.find((x) => x.unread)!;
    expect(socks.find((s) => s.data.fd === t.fd)!.preview).toEqual([{ direction: 'recv', size: t.unread!.length, data: t.unread, truncated: false }]);
    const pipe = json[0].file_descriptors[0].open_files.find((x: { fd_number: number }) => x.fd_number === f.pipe.read_fd);
    expect(pipe.preview[0].data).toBe(f.pipe.unread);
  });
});
