import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, symlinkSync, readdirSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAtomicFile, writeAtomically, prepareOutputDir, outputPathInside } from '../src/node/output.js';

const dir = () => mkdtempSync(join(tmpdir(), 'ckpt-out-'));

describe('safe output', () => {
  it('refuses to write over an input, through a symlink too, and leaves its bytes unchanged', async () => {
    const d = dir();
    const input = join(d, 'victim.tar');
    writeFileSync(input, 'EVIDENCE');
    symlinkSync(input, join(d, 'link.tar'));
    for (const target of [input, join(d, 'link.tar')]) {
      await expect(createAtomicFile(target, { inputs: [input], force: true })).rejects.toThrow(/refusing to write over the input/);
    }
    expect(readFileSync(input, 'utf8')).toBe('EVIDENCE');
    expect(readdirSync(d).sort()).toEqual(['link.tar', 'victim.tar']);
  });

  it('refuses to write inside an input directory', async () => {
    const d = dir();
    await expect(createAtomicFile(join(d, 'sub', 'x.txt'), { inputs: [d] })).rejects.toThrow(/inside the input directory/);
  });

  it('never replaces an existing file without force, and replaces it with force', async () => {
    const d = dir();
    const f = join(d, 'notes.txt');
    writeFileSync(f, 'keep');
    await expect(createAtomicFile(f)).rejects.toThrow(/already exists/);
    expect(readFileSync(f, 'utf8')).toBe('keep');
    await writeAtomically(f, { force: true }, (o) => o.write('new'));
    expect(readFileSync(f, 'utf8')).toBe('new');
  });

  it('a failed run leaves nothing behind', async () => {
    const d = dir();
    const f = join(d, 'out.bin');
    await expect(writeAtomically(f, {}, async (o) => { await o.write('half'); throw new Error('boom'); })).rejects.toThrow('boom');
    expect(readdirSync(d)).toEqual([]);
  });

  it('writes sparse files with holes', async () => {
    const d = dir();
    const f = join(d, 'sparse.bin');
    await writeAtomically(f, {}, async (o) => { await o.writeAt(Buffer.from('AB'), 1 << 20); await o.truncate(4 << 20); });
    const b = readFileSync(f);
    expect(b.length).toBe(4 << 20);
    expect(b.subarray((1 << 20), (1 << 20) + 2).toString()).toBe('AB');
    expect(statSync(f).blocks * 512).toBeLessThan(1 << 20);
  });

  it('output directories: non-empty needs force; names cannot leave the directory', async () => {
    const d = dir();
    writeFileSync(join(d, 'x'), '1');
    await expect(prepareOutputDir(d)).rejects.toThrow(/not empty/);
    await prepareOutputDir(d, { force: true });
    await expect(outputPathInside(d, '../escape')).rejects.toThrow(/leaves/);
    symlinkSync('/tmp', join(d, 'lnk'));
    await expect(outputPathInside(d, 'lnk/file')).rejects.toThrow(/symbolic link/);
    expect(await outputPathInside(d, '/abs/ok.txt')).toBe(join(d, 'abs', 'ok.txt'));
    expect(existsSync(join(d, 'abs'))).toBe(true);
  });
});

describe('safe() (the escaping of text taken from a checkpoint)', () => {
  it('turns every control character into an escape, and leaves other text as it is', async () => {
    const { safe } = await import('../src/node/index.js');
    const hostile = 'red\x1b[31m bell\x07 nl\n tab\t cr\r del\x7f c1\x9b ls\u2028 ps\u2029 nul\0';
    const shown = safe(hostile);
    // it did something: the result is not its input
    expect(shown).not.toBe(hostile);
    expect(shown).toBe('red\\x1b[31m bell\\x07 nl\\n tab\\t cr\\r del\\x7f c1\\x9b ls\\u{2028} ps\\u{2029} nul\\x00');
    // nothing that a terminal acts on is left
    // eslint-disable-next-line no-control-regex
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    // printable text (non-ASCII too) and backslashes pass through unchanged
    expect(safe('/usr/bin/nginx -g daemon off; é ü 中 \\x41')).toBe('/usr/bin/nginx -g daemon off; é ü 中 \\x41');
  });
});

describe('jsonText() (the JSON of every --format json and manifest)', () => {
  it('writes DEL, the C1 controls and U+2028/9 as \\u escapes that JSON.stringify leaves raw; the value is unchanged', async () => {
    const { jsonText } = await import('../src/node/index.js');
    const value = { argv: ['a\x7fb', 'csi\x9b31m', 'ls\u2028', 'esc\x1b nl\n'], n: 1 };
    // JSON.stringify leaves them raw: the reason jsonText exists
    expect(JSON.stringify(value)).toMatch(/[\u007f\u009b\u2028]/);
    const text = jsonText(value, 2);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(text).toContain('"a\\u007fb"');
    expect(text).toContain('"csi\\u009b31m"');
    expect(text).toContain('"ls\\u2028"');
    expect(JSON.parse(text)).toEqual(value);
    expect(jsonText(value)).toBe(JSON.stringify(value).replace('\x7f', '\\u007f').replace('\x9b', '\\u009b').replace('\u2028', '\\u2028'));
  });
});
