import type { CommandModule } from 'yargs';
import { discoverPlugins, safe } from '../../node/index.js';
import { out } from '../io.js';

/** Filled in by commands/index.ts: the builtin command names, which no plugin can take. */
export const builtinNames: string[] = [];

export const pluginCommand: CommandModule<object, object> = {
  command: 'plugin <action>',
  describe: 'Plugins: `ckpt plugin list` shows the ckpt-NAME executables on PATH (never running them)',
  builder: (y) => y.positional('action', { type: 'string', choices: ['list'], demandOption: true, describe: 'list: the plugins ckpt would run' }),
  handler: async () => {
    const plugins = discoverPlugins([...builtinNames, 'help', 'plugin', 'completion']);
    if (plugins.length === 0) {
      await out('No plugins found (executables named ckpt-NAME on PATH)\n');
      return;
    }
    let text = '';
    for (const p of plugins) {
      text += `${safe(p.name)}\t${safe(p.path)}\t${safe(p.description ?? '(no description)')}\n`;
      for (const s of p.shadowed) text += `  (also ${safe(s)}, not used: the first on PATH wins)\n`;
    }
    await out(text);
  },
};
