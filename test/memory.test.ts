import { describe, expect, it } from 'vitest';
import { openSource } from '../src/node/index.js';
import { ImageSet } from '../src/model/image-set.js';
import { CheckpointMemory, PageMap, PE_LAZY, PE_PARENT, PE_PRESENT } from '../src/model/memory/index.js';
import { regexLiteralPrefix } from '../src/model/memory/matchers.js';
import fc from 'fast-check';
import type { PagemapEntry } from '../src/images/index.js';
import { fixture, procsFacts } from './helpers.js';

const facts = procsFacts();

async function memoryOf(format: string) {
  const source = await openSource(fixture('podman', `procs-${format}.tar`));
  const images = await ImageSet.load(source);
  return { source, memory: await CheckpointMemory.load(images) };
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('PageMap: page locations as CRIU writes them', () => {
  const e = (vaddr: number, n: number, extra: Partial<PagemapEntry> = {}): PagemapEntry => ({ vaddr: BigInt(vaddr), compat_nr_pages: 0, nr_pages: BigInt(n), ...extra });

  it('advances the pages-file offset only over PE_PRESENT entries', () => {
    const pm = new PageMap('checkpoint/pagemap-1.img', 'checkpoint/pages-1.img', 1, [
      e(0x1000, 2, { flags: PE_PRESENT }),
      e(0x5000, 3, { flags: PE_LAZY }),
      e(0x9000, 1, { flags: PE_PARENT }),
      e(0xa000, 2, { flags: PE_PRESENT | PE_LAZY }),
    ], 4096);
    expect(pm.runs.map((r) => r.offset)).toEqual([0, -1, -1, 8192]);
    expect(pm.dataBytes).toBe(4 * 4096);
    const pieces = pm.locate(0x2000n, 0xa000 - 0x2000 + 10);
    expect(pieces.map((p) => [p.kind, p.kind === 'missing' ? p.reason : p.kind === 'file' ? p.offset : 0, p.length])).toEqual([
      ['file', 4096, 4096],
      ['missing', 'not-dumped', 0x2000],
      ['missing', 'lazy', 0x3000],
      ['missing', 'not-dumped', 0x1000],
      ['missing', 'in-parent', 0x1000],
      ['file', 8192, 10],
    ]);
  });

  it('reads compat_nr_pages from images before CRIU 4.2, and normalises in_parent and absent flags', () => {
    const pm = new PageMap('p', 'pages-1.img', 1, [
      { vaddr: 0x1000n, compat_nr_pages: 2 },
      { vaddr: 0x3000n, compat_nr_pages: 1, in_parent: true },
      { vaddr: 0x4000n, compat_nr_pages: 1 },
    ], 4096);
    expect(pm.runs.map((r) => [r.pages, r.flags, r.offset])).toEqual([
      [2, PE_PRESENT, 0],
      [1, PE_PARENT, -1],
      [1, PE_PRESENT, 8192],
    ]);
  });

  it('reads PE_PARENT pages from the parent pagemap when there is one', () => {
    const pm = new PageMap('p', 'pages-2.img', 2, [e(0x1000, 1, { flags: PE_PRESENT }), e(0x2000, 2, { flags: PE_PARENT })], 4096);
    pm.parent = new PageMap('parent/p', 'parent/pages-1.img', 1, [e(0x2000, 1, { flags: PE_PRESENT }), e(0x3000, 1, { flags: PE_PRESENT })], 4096);
    const pieces = pm.locate(0x1000n, 0x3000);
    expect(pieces.map((p) => [p.kind, p.kind === 'file' ? `${p.file}@${p.offset}` : '', p.length])).toEqual([
      ['file', 'pages-2.img@0', 4096],
      ['file', 'parent/pages-1.img@0', 4096],
      ['file', 'parent/pages-1.img@4096', 4096],
    ]);
    expect(pm.pagesWithData(0n, 0x10000n)).toBe(3);
  });

  it('finds runs by binary search', () => {
    const entries: PagemapEntry[] = [];
    for (let i = 0; i < 10000; i++) entries.push(e(0x100000 + i * 0x3000, 2, { flags: PE_PRESENT }));
    const pm = new PageMap('p', 'pages-1.img', 1, entries, 4096);
    expect(pm.find(BigInt(0x100000 + 5000 * 0x3000 + 0x1fff))?.offset).toBe(5000 * 8192);
    expect(pm.find(BigInt(0x100000 + 5000 * 0x3000 + 0x2000))).toBeUndefined();
  });
});

describe.each(['none', 'gzip', 'zstd'])('CheckpointMemory (procs-%s.tar)', (format) => {
  it('reads every planted secret at its address', async () => {
    const { source, memory } = await memoryOf(format);
    try {
      for (const s of facts.secrets) {
        const got = await memory.forPid(s.pid).read(BigInt(s.addr), s.len);
        expect(latin1(got!), `${s.kind} at ${s.addr}`).toBe(s.marker);
      }
    } finally {
      await source.close();
    }
  });

  it('a read of bytes not in the checkpoint is undefined, not zeros (false evidence); readDetailed names them', async () => {
    const { source, memory } = await memoryOf(format);
    try {
      const heap = facts.secrets.find((s) => s.kind === 'heap')!;
      const p = memory.forPid(heap.pid);
      const regions = p.regions();
      // below the first region nothing is mapped
      const first = regions[0]!.start;
      expect(await p.read(first - 4096n, 16)).toBeUndefined();
      // a range that runs from the secret into unmapped space: undefined as a whole
      const region = p.regionAt(BigInt(heap.addr))!;
      const next = regions[regions.indexOf(region) + 1];
      if (!next || next.start > region.end) expect(await p.read(region.end - 8n, 16)).toBeUndefined();
      const d = await p.readDetailed(first - 4096n, 16);
      expect(d.missing).toEqual([{ address: first - 4096n, length: 16, reason: 'unmapped' }]);
      // what is there still reads
      expect(latin1((await p.read(BigInt(heap.addr), heap.len))!)).toBe(heap.marker);
    } finally {
      await source.close();
    }
  });

  it('reads argv and environment of every process in one batch', async () => {
    const { source, memory } = await memoryOf(format);
    try {
      const p = facts.processes.find((x) => x.pid === 9)!;
      const [argv, env] = await memory.forPid(9).readMany([
        { address: BigInt(p.arg_start!), length: Number(BigInt(p.arg_end!) - BigInt(p.arg_start!)) },
        { address: BigInt(p.env_start!), length: Number(BigInt(p.env_end!) - BigInt(p.env_start!)) },
      ]);
      const args = latin1(argv!.bytes).split('\0');
      expect(args).toContain(facts.longargv.argv_first);
      expect(args).toContain(facts.longargv.argv_last);
      expect(latin1(env!.bytes).split('\0').filter(Boolean)).toEqual(facts.longargv.env);
      expect(argv!.missing).toEqual([]);
    } finally {
      await source.close();
    }
  });
});

describe('regions', () => {
  it('labels heap, stack, vdso, vvar, vsyscall, file, memfd, anon shared and sysv shm', async () => {
    const { source, memory } = await memoryOf('none');
    try {
      const m = memory.forPid(1);
      const at = (a: string) => m.regionAt(BigInt(a))!;
      const kinds: Record<string, string> = { heap: 'heap', stack: 'stack', 'shared-anon': 'anon shared', memfd: 'memfd', 'sysv-shm': 'sysv shm', 'page-straddle': 'anon' };
      for (const s of facts.secrets) expect(at(s.addr).label, s.kind).toBe(kinds[s.kind]);
      const labels = m.regions().map((r) => r.label);
      for (const l of ['vdso', 'vvar', 'vsyscall', 'file']) expect(labels).toContain(l);
      const memfd = at(facts.secrets.find((s) => s.kind === 'memfd')!.addr);
      expect(memfd.path).toBe('memfd:ckpt-memfd');
      expect(memfd.shared?.kind).toBe('memfd');
      const exe = m.regions().find((r) => r.label === 'file')!;
      expect(exe.path).toBe('/ckpt-workload');
      expect(exe.offset).toBe(0n);
      const sysv = at(facts.secrets.find((s) => s.kind === 'sysv-shm')!.addr);
      expect(sysv.shared?.sysvKey).toBe(1129009236);
      expect(memory.comm(1)).toBe('ckpt-main');
      expect(m.privateBytes).toBeGreaterThan(0);
      expect(m.sharedBytes).toBe(3 * 4096);
    } finally {
      await source.close();
    }
  });

  it('reports unmapped and undumped ranges as missing, zero-filled', async () => {
    const { source, memory } = await memoryOf('none');
    try {
      const r = await memory.forPid(1).readDetailed(0x1000n, 16);
      expect(r.missing).toEqual([{ address: 0x1000n, length: 16, reason: 'unmapped' }]);
      expect([...r.bytes]).toEqual(new Array(16).fill(0));
      expect(() => memory.forPid(4242)).toThrow(/no process with pid 4242/);
    } finally {
      await source.close();
    }
  });
});

describe('regexLiteralPrefix: the literal every match starts with (windows without it skip the regex)', () => {
  const prefix = (re: RegExp) => {
    const p = regexLiteralPrefix(re);
    return p ? Buffer.from(p).toString('latin1') : undefined;
  };

  it('takes plain characters and escaped punctuation, leaves out optional atoms, and gives up on i, v and top-level |', () => {
    expect(prefix(/BENCH-TOKEN-sk_live_[0-9a-zA-Z]{24}/)).toBe('BENCH-TOKEN-sk_live_');
    expect(prefix(/password=\S+/)).toBe('password=');
    expect(prefix(/\.\x41\tq/)).toBe('.A\tq');
    expect(prefix(/ab*c/)).toBe('a');
    expect(prefix(/ab?c/)).toBe('a');
    expect(prefix(/ab{0,2}c/)).toBe('a');
    expect(prefix(/ab+c/)).toBe('ab');
    expect(prefix(/a(b|c)/)).toBe('a');
    expect(prefix(/abc|x/)).toBeUndefined();
    expect(prefix(/(a|b)c/)).toBeUndefined();
    expect(prefix(/[]a|b/)).toBeUndefined(); // [] is an empty class: the | is at the top level
    expect(prefix(/abc/i)).toBeUndefined();
    expect(prefix(/^abc/m)).toBeUndefined();
    expect(prefix(/\d+/)).toBeUndefined();
    expect(prefix(/\u00e9x/u)).toBeUndefined();
  });

  it('is sound: every match of a random pattern in a random text starts with it', () => {
    const atoms = ['a', 'b', 'c', '.', '\\.', 'x', '[ab]', '[^a]', 'a*', 'b?', 'c+', 'a{2}', 'b{0,1}', '(a|b)', '(?:ab)', '|', '^', '$', '\\b', '\\d', '(?=a)', '(?<=b)', '\\x61', '\\t', ']', '}'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...atoms), { minLength: 1, maxLength: 7 }), fc.stringMatching(/^[abcx.\t9 ]{0,60}$/), fc.constantFrom('', 'm', 's', 'u'), (parts, text, flags) => {
        let re: RegExp;
        try {
          re = new RegExp(parts.join(''), flags + 'g');
        } catch {
          return; // not a valid pattern with these flags
        }
        const p = prefix(re);
        if (p === undefined) return;
        for (const m of text.matchAll(re)) if (m[0].length > 0) expect(text.startsWith(p, m.index), `/${re.source}/${flags} at ${m.index} of ${JSON.stringify(text)}`).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
