/**
 * The public API of both entries, as API Extractor reads the built declarations (dist/*.d.ts),
 * must be the one recorded in api/ckpt-core.api.md (`@ckpt/core`) and api/ckpt-core-core.api.md
 * (`@ckpt/core/core`). A change to the API is a change to those files too: `npm run api:update`,
 * then review and commit them.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

const EXTRACTOR = join(ROOT, 'node_modules', '@microsoft', 'api-extractor', 'bin', 'api-extractor');

describe('API report', () => {
  for (const [entry, report] of [
    ['node', 'ckpt-core.api.md'],
    ['core', 'ckpt-core-core.api.md'],
  ] as const) {
    it(`${report}: the declarations of ${entry === 'node' ? '@ckpt/core' : '@ckpt/core/core'} are the recorded ones`, { timeout: 300_000 }, () => {
      expect(existsSync(join(ROOT, 'dist', entry === 'node' ? 'node' : '', 'index.d.ts'))).toBe(true);
      const r = spawnSync(process.execPath, [EXTRACTOR, 'run', '-c', join(ROOT, 'api', `api-extractor.${entry}.json`)], { encoding: 'utf8', cwd: ROOT });
      expect(r.status, `${r.stdout}\n${r.stderr}\nthe public API changed: if that is meant, run npm run api:update and commit api/`).toBe(0);
    });
  }

  it('the reports name what each entry is for', () => {
    const node = readFileSync(join(ROOT, 'api', 'ckpt-core.api.md'), 'utf8');
    const core = readFileSync(join(ROOT, 'api', 'ckpt-core-core.api.md'), 'utf8');
    // opening by path is Node's; the neutral core opens Blobs and in-memory sources
    expect(node).toMatch(/export function openCheckpointFile\(/);
    expect(core).not.toMatch(/openCheckpointFile/);
    expect(core).toMatch(/export function openBlobSource\(/);
    expect(core).toMatch(/export function decodeImage\(/);
  });
});
