import { describe, expect, it } from 'vitest';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ROOT, fixture } from './helpers.js';
import { openSource } from '../src/node/index.js';
import { decodeImages } from '../src/images/select.js';
import type { CheckpointSource } from '../src/source/types.js';

/** Every module the entry reaches through relative imports, with the bare specifiers it names. */
function importGraph(entry: string): { files: string[]; bare: Set<string> } {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) todo.push(resolve(dirname(f), spec));
      else bare.add(spec);
    }
  }
  return { files: [...seen], bare };
}

describe('the runtime-neutral core', () => {
  it('reaches no Node built-in module and no file-system code', () => {
    const entry = join(ROOT, 'dist', 'index.js');
    expect(existsSync(entry)).toBe(true);
    const { files, bare } = importGraph(entry);
    expect(files.length).toBeGreaterThan(5);
    const builtins = [...bare].filter((s) => s.startsWith('node:') || ['fs', 'path', 'zlib', 'os', 'child_process', 'stream'].includes(s));
    expect(builtins).toEqual([]);
    // a package that needs Node built-ins itself (cli-table3 requires util and os) breaks a browser bundle
    expect(bare.has('cli-table3')).toBe(false);
    expect(files.filter((f) => f.includes(`${join('dist', 'node')}/`))).toEqual([]);
  });

  it('the Node entry adds the file sources', () => {
    const { files, bare } = importGraph(join(ROOT, 'dist', 'node', 'index.js'));
    expect(files.some((f) => f.endsWith(join('node', 'open.js')))).toBe(true);
    expect(bare.has('node:fs')).toBe(true);
  });
});

/** Every .ts file under src/, relative to src/. */
function sourceFiles(dir = join(ROOT, 'src'), rel = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name), `${rel}${d.name}/`) : d.name.endsWith('.ts') ? [`${rel}${d.name}`] : [],
  );
}

const BUILTINS = new Set(['fs', 'path', 'zlib', 'os', 'child_process', 'stream', 'worker_threads', 'events', 'crypto', 'url', 'util', 'buffer', 'v8', 'vm']);

describe('where Node-only code lives', () => {
  it('no module outside src/node/ and src/cli/ imports a Node built-in', () => {
    const files = sourceFiles();
    expect(files).toContain('node/open.ts');
    const offenders: string[] = [];
    for (const f of files) {
      if (f.startsWith('node/') || f.startsWith('cli/')) continue;
      const text = readFileSync(join(ROOT, 'src', f), 'utf8');
      for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = m[1] ?? m[2] ?? m[3]!;
        if (spec.startsWith('node:') || BUILTINS.has(spec.split('/')[0]!)) offenders.push(`${f}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the CLI (every command, and main, io, progress, plugins) imports the library only through the package entry (src/node/index.ts)', () => {
    const cli = sourceFiles().filter((f) => f.startsWith('cli/'));
    // every command, by name: a command added later is checked without being listed here
    for (const c of ['build', 'coredump', 'decode', 'diff', 'findings', 'inspect', 'list', 'memdump', 'memparse', 'plugin', 'recover', 'rootfs', 'show']) expect(cli).toContain(`cli/commands/${c}.ts`);
    const offenders: string[] = [];
    for (const f of cli) {
      const text = readFileSync(join(ROOT, 'src', f), 'utf8');
      for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
        const spec = m[1] ?? m[2]!;
        const target = join('cli', dirname(f.slice('cli/'.length)), spec);
        if (target === join('node', 'index.js') || target.startsWith(`cli${'/'}`)) continue;
        offenders.push(`${f}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the check sees a Node import where there is one', () => {
    const text = readFileSync(join(ROOT, 'src', 'node', 'open.ts'), 'utf8');
    expect(text).toMatch(/from 'node:fs'/);
  });
});

describe('random access on an uncompressed archive', () => {
  it('decoding every protobuf image never touches a pages file', async () => {
    const inner = await openSource(fixture('podman', 'procs-none.tar'));
    const touched: string[] = [];
    const spy: CheckpointSource = {
      label: inner.label,
      randomAccess: inner.randomAccess,
      entries: () => inner.entries(),
      read: (p) => (touched.push(p), inner.read(p)),
      readRange: (p, o, n) => (touched.push(p), inner.readRange(p, o, n)),
      stream: (p) => (touched.push(p), inner.stream(p)),
      walk: (want, visit) => inner.walk(want, (e, body) => (touched.push(e.path), visit(e, body))),
      close: () => inner.close(),
    };
    const decoded = await decodeImages(spy, []);
    expect(decoded.has('checkpoint/pstree.img')).toBe(true);
    expect(decoded.size).toBeGreaterThan(30);
    expect(touched.filter((p) => p.includes('pages-'))).toEqual([]);
    expect(touched).not.toContain('rootfs-diff.tar');
    await spy.close();
  });
});
