/**
 * Checkpoint images read back as sources: the oci-archive and OCI layout that `ckpt build`
 * writes, and the same image as skopeo converts it (docker-archive; OCI layout with a gzip layer).
 * What ckpt reads from each must equal what it reads from the checkpoint archive itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ckpt, fixture } from './helpers.js';

const CKPT = fixture('diff', 'b.tar');
const NAME = 'localhost/ckpt-i12-diff:checkpoint';
const hasSkopeo = spawnSync('skopeo', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'ckpt-image-src-'));
const archive = join(dir, 'image.tar');
const layout = join(dir, 'layout');

/** inspect --all --format json without the label and the archive's own hash (the files differ). */
function inspected(path: string): unknown {
  const r = ckpt(['inspect', path, '--all', '--format', 'json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const j = JSON.parse(r.stdout) as Record<string, unknown>[];
  for (const x of j) delete (x.metadata as Record<string, unknown> | undefined)?.archive_sha256;
  return j.map(({ checkpoint_path: _p, path: _q, label: _l, ...rest }) => rest);
}

let expected: unknown;
beforeAll(() => {
  expect(ckpt(['build', CKPT, NAME, '-o', archive]).code).toBe(0);
  expect(ckpt(['build', CKPT, NAME, '--oci-layout', layout]).code).toBe(0);
  expected = inspected(CKPT);
});

describe('checkpoint images as sources', () => {
  it('an oci-archive (ckpt build -o): the same checkpoint as the archive it was built from', () => {
    expect(inspected(archive)).toEqual(expected);
  });

  it('an OCI layout directory (ckpt build --oci-layout)', () => {
    expect(inspected(layout)).toEqual(expected);
  });

  it('ckpt diff of the image against its checkpoint: nothing changed', () => {
    const r = ckpt(['diff', archive, CKPT, '--format', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.process_changes.added).toEqual([]);
    expect(j.process_changes.removed).toEqual([]);
    expect(j.process_changes.modified).toEqual([]);
    expect(j.memory_changes.pagesChanged).toBe(0);
  });

  it('an image with two layers: one line naming the problem, exit 1', () => {
    const bad = join(dir, 'bad');
    mkdirSync(join(bad, 'blobs', 'sha256'), { recursive: true });
    const d = (c: string) => `sha256:${c.repeat(64)}`;
    writeFileSync(join(bad, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(bad, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('a'), size: 1 }] }));
    writeFileSync(join(bad, 'blobs', 'sha256', 'a'.repeat(64)), JSON.stringify({ schemaVersion: 2, layers: [{ digest: d('b') }, { digest: d('c') }] }));
    const r = ckpt(['inspect', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('2 layers');
  });
});

describe.skipIf(!hasSkopeo)('images converted by skopeo (skopeo not installed: .ci/run installs it)', () => {
  it('a docker-archive (skopeo copy oci-archive: docker-archive:)', () => {
    const docker = join(dir, 'docker.tar');
    const r = spawnSync('skopeo', ['copy', '-q', `oci-archive:${archive}`, `docker-archive:${docker}:${NAME}`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(inspected(docker)).toEqual(expected);
  });

  it('an OCI layout whose layer is gzip-compressed (skopeo --dest-compress)', () => {
    const gz = join(dir, 'gz');
    const r = spawnSync('skopeo', ['copy', '-q', '--dest-compress', '--dest-compress-format', 'gzip', `oci-archive:${archive}`, `oci:${gz}:ckpt`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(inspected(gz)).toEqual(expected);
  });
});
