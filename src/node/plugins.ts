/**
 * Plugins: executables named `ckpt-NAME` on PATH, run as `ckpt NAME args…` (as git and kubectl
 * do). Discovery only looks at file names, modes and the first bytes of each file: it never runs
 * a plugin. A description is a line `ckpt-plugin-description: TEXT` in the file's first 16 KiB
 * (a comment in a script, a string in a binary). docs/plugins.md is the contract.
 */
import { accessSync, constants, closeSync, openSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { CkptError } from '../errors.js';

export const PLUGIN_PREFIX = 'ckpt-';
/** How deep plugins may call ckpt, which calls plugins (a loop through wrappers ends here). */
export const MAX_PLUGIN_DEPTH = 8;
const DESCRIPTION_BYTES = 16 << 10;

export interface Plugin {
  /** The subcommand: the file name without `ckpt-`. */
  name: string;
  /** The executable found on PATH (first one wins). */
  path: string;
  /** From a `ckpt-plugin-description:` line, or undefined. */
  description?: string;
  /** Other executables of the same name later on PATH, which `ckpt NAME` does not run. */
  shadowed: string[];
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function readDescription(p: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(p, 'r');
    const buf = Buffer.alloc(DESCRIPTION_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const m = /ckpt-plugin-description:[ \t]*([^\r\n\0]{1,200})/.exec(buf.subarray(0, n).toString('latin1'));
    return m ? m[1]!.trim() : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Every plugin on `searchPath` (default: $PATH), first directory first; builtin names are left out. */
export function discoverPlugins(builtins: readonly string[] = [], searchPath = process.env.PATH ?? ''): Plugin[] {
  const found = new Map<string, Plugin>();
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const file of names) {
      if (!file.startsWith(PLUGIN_PREFIX) || file.length === PLUGIN_PREFIX.length) continue;
      const name = file.slice(PLUGIN_PREFIX.length);
      if (builtins.includes(name) || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) continue;
      const full = path.join(dir, file);
      if (!isExecutableFile(full)) continue;
      const known = found.get(name);
      if (known) known.shadowed.push(full);
      else found.set(name, { name, path: full, description: readDescription(full), shadowed: [] });
    }
  }
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Runs a plugin with `args`, stdio passed through; resolves to its exit code (128 + signal number
 * when killed by a signal). Refused (CkptError) when the plugin is ckpt itself, or when plugins
 * have called ckpt too deeply. The plugin gets CKPT (how to run this ckpt), CKPT_PLUGIN_NAME and
 * CKPT_PLUGIN_DEPTH in its environment.
 */
export function runPlugin(plugin: Plugin, args: readonly string[], self: readonly string[] = [process.execPath, process.argv[1] ?? '']): Promise<number> {
  const real = realpathOrSelf(plugin.path);
  if (self.some((s) => s && realpathOrSelf(s) === real)) throw new CkptError('is ckpt itself: refused (a plugin named like ckpt would call itself without end)', plugin.path);
  const depth = Number(process.env.CKPT_PLUGIN_DEPTH ?? '0') || 0;
  if (depth >= MAX_PLUGIN_DEPTH) throw new CkptError(`plugins called ckpt ${depth} levels deep: refused (a plugin that runs itself?)`, plugin.path);
  return new Promise((resolve, reject) => {
    const child = spawn(plugin.path, [...args], {
      stdio: 'inherit',
      env: { ...process.env, CKPT: self.filter(Boolean).join(' '), CKPT_PLUGIN_NAME: plugin.name, CKPT_PLUGIN_DEPTH: String(depth + 1) },
    });
    child.on('error', (e: NodeJS.ErrnoException) => reject(new CkptError(`cannot run plugin: ${e.code ?? e.message}`, plugin.path)));
    child.on('exit', (codeOrNull, signal) => {
      if (codeOrNull !== null) resolve(codeOrNull);
      else resolve(128 + (signal ? (osSignals[signal] ?? 0) : 0));
    });
  });
}


const osSignals = osConstants.signals as Record<string, number>;
