/** The CLI side of plugins: `ckpt NAME args…` for a `ckpt-NAME` on PATH, and the lines of `--help`. */
import { discoverPlugins, runPlugin, safe } from '../node/index.js';

/** Words that are ckpt's own and never a plugin's. */
const RESERVED = ['help', 'plugin', 'completion'];

/**
 * When the first word is not an option nor a builtin command and a `ckpt-WORD` is on PATH, runs it
 * with the remaining words and resolves to its exit code; otherwise resolves to undefined.
 */
export async function runPluginIfNamed(argv: string[], builtins: string[]): Promise<number | undefined> {
  const word = argv[0];
  if (word === undefined || word.startsWith('-') || builtins.includes(word) || RESERVED.includes(word)) return undefined;
  const plugin = discoverPlugins([...builtins, ...RESERVED]).find((p) => p.name === word);
  if (!plugin) return undefined;
  return runPlugin(plugin, argv.slice(1));
}

/** The plugins section of `ckpt --help` (empty when there are none). */
export function pluginHelpLines(builtins: string[] = []): string {
  const plugins = discoverPlugins([...builtins, ...RESERVED]);
  if (plugins.length === 0) return '';
  const width = Math.max(...plugins.map((p) => p.name.length));
  return `Plugins (ckpt-NAME on PATH, see 'ckpt plugin list'):\n${plugins.map((p) => `  ckpt ${safe(p.name).padEnd(width)}  ${safe(p.description ?? `Plugin provided by ${p.path}`)}`).join('\n')}`;
}
