import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ckpt, fixture } from './helpers.js';

describe('--output', () => {
  it('an output file that cannot be created: one line naming it, exit 1, no stack trace', () => {
    const r = ckpt(['memparse', fixture('podman', 'procs-none.tar'), '--pid', '1', '--output', '/nonexistent-dir/dump.txt']);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd()).toMatch(/^ckpt: \/nonexistent-dir\/dump\.txt: cannot create \(ENOENT\)$/);
  });

  it('the full dump lands in the file, without collapsed rows', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ckpt-out-')), 'dump.txt');
    const r = ckpt(['memparse', fixture('podman', 'procs-none.tar'), '--pid', '1', '--output', file]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    const facts = JSON.parse(readFileSync(fixture('facts', 'procs.json'), 'utf8'));
    const heap = facts.secrets.find((s: { kind: string }) => s.kind === 'heap');
    const row = (BigInt(heap.addr) & ~0xfn).toString(16);
    const line = text.split('\n').find((l) => new RegExp(`^(0x)?0*${row}\\b`).test(l));
    expect(line, `row ${row}`).toBeDefined();
    // the marker starts at byte 0 of that row: its first 16 characters in the ASCII column
    expect(line).toContain(heap.marker.slice(0, 16));
    expect(text).not.toMatch(/^\*$/m);
  });
});
