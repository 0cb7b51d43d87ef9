import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { literalSetMatcher, parseLiteralList } from '../src/model/memory/literal-set.js';
import { compileYara, longestYaraString } from '../src/node/yara.js';
import { ckpt, fixture, procsFacts } from './helpers.js';

const facts = procsFacts();
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-indicators-'));
const compromised = JSON.parse(readFileSync(fixture('facts', 'compromised.json'), 'utf8')) as {
  pid: number;
  rwx: { start: string; marker_addr: string; marker: string };
  libc_patch: { addr: string; marker: string };
};

/** Every start of every literal, the slow way. */
function naive(hay: Uint8Array, lits: Uint8Array[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < hay.length; i++)
    lits.forEach((l, k) => {
      if (i + l.length <= hay.length && l.every((b, j) => hay[i + j] === b)) out.push(`${i}:${k}`);
    });
  return out.sort();
}

describe('literal sets (Wu-Manber)', () => {
  it('finds exactly what a naive search finds, at any window bounds (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 6 }).map((a) => a.map((b) => b % 4)), { minLength: 1, maxLength: 8 }),
        fc.uint8Array({ maxLength: 300 }).map((a) => a.map((b) => b % 4)),
        (lits, hay) => {
          const m = literalSetMatcher(lits.map((bytes, i) => ({ bytes, text: String(i), line: i + 1 })));
          const got = m.scan(hay, 0, hay.length - m.minLength) as { index: number; tag: number }[];
          const uniq = [...new Map(lits.map((l, k) => [Buffer.from(l).toString('hex'), k])).values()];
          const want = naive(hay, lits).filter((x) => uniq.includes(Number(x.split(':')[1])));
          expect(got.map((h) => `${h.index}:${h.tag}`).filter((x) => uniq.includes(Number(x.split(':')[1]))).sort()).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('parses a list: text, hex:, empty lines, CRLF, duplicates; errors name the line', () => {
    const l = parseLiteralList('abc\r\n\nhex:de ad\nabc\n', 'iocs.txt');
    expect(l.map((x) => [x.text, Buffer.from(x.bytes).toString('hex'), x.line])).toEqual([
      ['abc', '616263', 1],
      ['hex:de ad', 'dead', 3],
    ]);
    expect(() => parseLiteralList('ok\nhex:xyz\n', 'iocs.txt')).toThrow(/iocs.txt.*line 2: not a hex byte string/);
    expect(() => parseLiteralList('\n\n', 'iocs.txt')).toThrow(/no literals/);
  });
});

describe('ckpt memparse --search-file', () => {
  it('finds every planted secret of the procs fixture in one pass, with 1,000 decoys', () => {
    const lines = facts.secrets.map((s) => s.marker);
    for (let i = 0; i < 1000 - lines.length; i++) lines.push(`DECOY-${i}-not-in-memory-${(i * 7919).toString(36)}`);
    lines.push(`hex:${Buffer.from(facts.secrets[0]!.marker).toString('hex')}`); // the same bytes twice: once
    const file = join(tmp, 'iocs.txt');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = ckpt(['memparse', fixture('podman', 'procs-none.tar'), '--search-file', file, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { pid: number; address: string; match: string; indicator: string; indicator_line: number }[];
    for (const s of facts.secrets) {
      const hit = got.find((g) => g.pid === s.pid && g.address === s.addr);
      expect(hit, s.kind).toBeDefined();
      expect(hit!.match).toBe(s.marker.slice(0, s.len));
      expect(hit!.indicator).toBe(s.marker);
    }
    expect(got.every((g) => !g.match.startsWith('DECOY'))).toBe(true);
  });
});

describe.skipIf(typeof compileYara('rule x { condition: true }', 'probe') === 'string')('YARA (YARA-X)', () => {
  it('estimates the longest string of rules for the window overlap', () => {
    expect(longestYaraString('rule a { strings: $a = "abcdef" $b = { 01 02 [2-10] 03 } condition: any of them }')).toBe(13);
    expect(longestYaraString('rule a { strings: $a = /x+y/ condition: $a }')).toBe(4096);
  });

  it('memparse --yara: a match at the planted address of the compromised fixture, by rule and string id', () => {
    const rules = join(tmp, 'implant.yar');
    writeFileSync(
      rules,
      `rule implant_marker { strings: $rwx = "${compromised.rwx.marker}" $code = { 48 31 c0 c3 } condition: any of them }\n` +
        `rule libc_patch { strings: $p = { cc cc cc cc 43 4b 50 54 2d 4c 49 42 43 } condition: $p }\n`,
    );
    const r = ckpt(['memparse', fixture('podman', 'compromised-none.tar'), '--yara', rules, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { pid: number; address: string; rule: string; string_id: string; match: string }[];
    const at = (rule: string, id: string) => got.filter((g) => g.rule === rule && g.string_id === id && g.pid === compromised.pid).map((g) => g.address);
    expect(at('implant_marker', '$rwx')).toContain(compromised.rwx.marker_addr);
    expect(at('implant_marker', '$code')).toContain(compromised.rwx.start);
    expect(at('libc_patch', '$p')).toEqual([compromised.libc_patch.addr]);
    // no duplicates
    const keys = got.map((g) => `${g.pid}/${g.address}/${g.rule}/${g.string_id}`);
    expect(new Set(keys).size).toBe(keys.length);
    const t = ckpt(['memparse', fixture('podman', 'compromised-none.tar'), '--yara-rule', `rule m { strings: $a = "${compromised.rwx.marker}" condition: $a }`]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`^${compromised.pid}\\s+${compromised.rwx.marker_addr}\\s+anon\\s+m:\\$a\\s+${compromised.rwx.marker}$`, 'm'));
    const bad = ckpt(['memparse', fixture('podman', 'compromised-none.tar'), '--yara-rule', 'rule { nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ckpt: .*YARA rules do not compile: syntax error at line:1:6\n$/);
  });
});

describe('YARA where the native module cannot load', () => {
  it('says so in one line and exits 1; other commands are not affected', () => {
    const env = { CKPT_YARA_MODULE: '@litko/yara-x-no-such-platform' };
    const r = ckpt(['memparse', fixture('podman', 'procs-none.tar'), '--yara-rule', 'rule x { strings: $a = "x" condition: $a }'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ckpt: YARA is not available here: the YARA-X module \(@litko\/yara-x-no-such-platform\) could not be loaded: [^\n]+\n$/);
    expect(ckpt(['memparse', fixture('podman', 'procs-none.tar'), '--search', 'CKPT-HEAP'], env).code).toBe(0);
  });
});

describe('files of the root file-system diff (findRootfsMatches)', () => {
  it('finds a literal in a dropped file at its offset, across small windows', async () => {
    const { openCheckpointFile } = await import('../src/node/index.js');
    const { findRootfsMatches } = await import('../src/model/rootfs-scan.js');
    const ck = await openCheckpointFile(fixture('podman', 'compromised-none.tar'));
    try {
      let payload = Buffer.alloc(0);
      for await (const c of ck.rootfsFile('/tmp/payload')) payload = Buffer.concat([payload, c]);
      const marker = Buffer.from(compromised.rwx.marker);
      const want = payload.indexOf(marker);
      expect(want).toBeGreaterThan(0);
      const base = literalSetMatcher([{ bytes: marker, text: compromised.rwx.marker, line: 1 }]);
      // a window far smaller than the file: matches across window bounds are still found once
      const small = { ...base, window: 1000, scan: base.scan };
      const hits: { path: string; offset: number }[] = [];
      for await (const h of findRootfsMatches(ck, small)) hits.push({ path: h.path, offset: h.offset });
      expect(hits).toContainEqual({ path: '/tmp/payload', offset: want });
      expect(hits.filter((h) => h.path === '/tmp/payload')).toHaveLength(payload.toString('latin1').split(marker.toString('latin1')).length - 1);
      expect(hits.map((h) => h.path)).toContain('/usr/local/bin/.sysupdate');
    } finally {
      await ck.close();
    }
  });
});
