/**
 * `ckpt build`: the OCI checkpoint image of a real checkpoint (testdata/diff/b.tar). Judges: tar
 * itself (the layer holds the archive's members, byte for byte), SHA-256 of every blob against its
 * name, and skopeo (reads the oci-archive and the layout, shows the annotations). The end-to-end
 * restore by Podman runs in the lab (testdata/oci/make-build-e2e.sh, log in testdata/oci/).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ckpt, fixture } from './helpers.js';

const CKPT = fixture('diff', 'b.tar');
const facts = JSON.parse(readFileSync(fixture('diff', 'facts.json'), 'utf8')) as { container: { name: string; id: string; image: string; image_id: string } };
const NAME = 'localhost/ckpt-i12-diff:checkpoint';
const hasSkopeo = spawnSync('skopeo', ['--version']).status === 0;

const dir = mkdtempSync(join(tmpdir(), 'ckpt-build-'));
const archive = join(dir, 'image.tar');
const layout = join(dir, 'layout');

function tarList(bytes: Buffer | string): string[] {
  const r = typeof bytes === 'string' ? spawnSync('tar', ['-tf', bytes], { encoding: 'utf8' }) : spawnSync('tar', ['-tf', '-'], { input: bytes, encoding: 'utf8', maxBuffer: 64 << 20 });
  return r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/\/$/, ''));
}
function member(tarPath: string, name: string): Buffer {
  return spawnSync('tar', ['-xOf', tarPath, name], { maxBuffer: 256 << 20 }).stdout as Buffer;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const EXPECTED: Record<string, string> = {
  'io.podman.annotations.checkpoint.name': facts.container.name,
  'io.podman.annotations.checkpoint.rootfsImageID': facts.container.image_id,
  'io.podman.annotations.checkpoint.rootfsImageName': facts.container.image,
  'io.podman.annotations.checkpoint.runtime.name': 'crun',
  'io.kubernetes.cri-o.annotations.checkpoint.name': facts.container.name,
  'io.kubernetes.cri-o.annotations.checkpoint.rootfsImageID': facts.container.image_id,
  'io.kubernetes.cri-o.annotations.checkpoint.rootfsImageName': facts.container.image,
  'org.criu.checkpoint.container.name': facts.container.name,
  'org.criu.checkpoint.engine.name': 'Podman',
  'org.criu.checkpoint.runtime.name': 'crun',
  'org.criu.checkpoint.rootfsImageName': facts.container.image,
  'org.criu.checkpoint.rootfsImageID': facts.container.image_id,
};

beforeAll(() => {
  const r = ckpt(['build', CKPT, NAME, '-o', archive]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const l = ckpt(['build', CKPT, NAME, '--oci-layout', layout]);
  expect(l.code).toBe(0);
});

describe('ckpt build -o (oci-archive)', () => {
  it('an OCI layout in a tar: oci-layout, index.json, blobs named by their SHA-256', () => {
    const names = tarList(archive);
    expect(names).toContain('oci-layout');
    expect(names).toContain('index.json');
    const blobs = names.filter((n) => /^blobs\/sha256\/[0-9a-f]{64}$/.test(n));
    expect(blobs).toHaveLength(3);
    for (const b of blobs) expect(sha(member(archive, b))).toBe(b.slice('blobs/sha256/'.length));
  });

  it('the annotations, from the checkpoint metadata, on the index and on the manifest', () => {
    const index = JSON.parse(member(archive, 'index.json').toString());
    const manifest = JSON.parse(member(archive, `blobs/sha256/${index.manifests[0].digest.slice(7)}`).toString());
    for (const annotations of [index.annotations, index.manifests[0].annotations, manifest.annotations]) expect(annotations).toMatchObject(EXPECTED);
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe(NAME);
    expect(manifest.layers).toHaveLength(1);
  });

  it('the one layer holds the checkpoint archive members, byte for byte', () => {
    const index = JSON.parse(member(archive, 'index.json').toString());
    const manifest = JSON.parse(member(archive, `blobs/sha256/${index.manifests[0].digest.slice(7)}`).toString());
    const layer = member(archive, `blobs/sha256/${manifest.layers[0].digest.slice(7)}`);
    expect(layer.length).toBe(manifest.layers[0].size);
    const want = tarList(CKPT);
    expect(tarList(layer)).toEqual(want);
    const d = mkdtempSync(join(dir, 'layer-'));
    writeFileSync(join(d, 'layer.tar'), layer);
    for (const m of ['config.dump', 'checkpoint/pages-1.img', 'checkpoint/pstree.img', 'rootfs-diff.tar']) expect(sha(member(join(d, 'layer.tar'), m))).toBe(sha(member(CKPT, m)));
  });

  it('refuses to replace an existing file without --force, and to write over the input', () => {
    const again = ckpt(['build', CKPT, NAME, '-o', archive]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(ckpt(['build', CKPT, NAME, '-o', archive, '--force']).code).toBe(0);
    const over = ckpt(['build', CKPT, NAME, '-o', CKPT, '--force']);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain('input');
  });

  it('usage errors: neither or both outputs', () => {
    expect(ckpt(['build', CKPT, NAME]).code).toBe(2);
    expect(ckpt(['build', CKPT, NAME, '-o', join(dir, 'x.tar'), '--oci-layout', join(dir, 'y')]).code).toBe(2);
    expect(existsSync(join(dir, 'x.tar'))).toBe(false);
  });
});

describe('ckpt build --oci-layout', () => {
  it('the same image as the archive, as a directory', () => {
    expect(readdirSync(layout).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const fromArchive = JSON.parse(member(archive, 'index.json').toString());
    expect(index.manifests[0].digest).toBe(fromArchive.manifests[0].digest);
    for (const b of readdirSync(join(layout, 'blobs', 'sha256'))) expect(sha(readFileSync(join(layout, 'blobs', 'sha256', b)))).toBe(b);
  });
});

describe.skipIf(!hasSkopeo)('skopeo judges the image (skopeo not installed: .ci/run installs it)', () => {
  it('skopeo inspect --raw oci-archive: the manifest with the annotations', () => {
    const r = spawnSync('skopeo', ['inspect', '--raw', `oci-archive:${archive}`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const manifest = JSON.parse(r.stdout);
    expect(manifest.annotations).toMatchObject(EXPECTED);
  });

  it('skopeo inspect oci-archive: and oci: (layout) agree on the digest', () => {
    const a = JSON.parse(spawnSync('skopeo', ['inspect', `oci-archive:${archive}`], { encoding: 'utf8' }).stdout);
    const l = JSON.parse(spawnSync('skopeo', ['inspect', `oci:${layout}`], { encoding: 'utf8' }).stdout);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    expect(a.Digest).toBe(index.manifests[0].digest);
    expect(l.Digest).toBe(a.Digest);
    expect(a.Architecture).toBe('amd64');
    expect(a.Layers).toHaveLength(1);
  });
});
