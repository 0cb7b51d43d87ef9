import type { CommandModule } from 'yargs';
import { out } from '../io.js';

interface CompletionArgs {
  shell: 'bash' | 'zsh';
}

/** Commands and options offered by the completion script. */
const WORDS: Record<string, string> = {
  '': 'decode show inspect list memparse plugin completion --help --version --color --quiet',
  decode: '--pretty --numeric --crit-task-names',
  show: '--format',
  inspect: '--ps-tree --ps-tree-cmd --ps-tree-env --files --sockets --mounts --stats --metadata --all --pid --format',
  list: '--format',
  memparse: '--pid --output --force --search --search-regex --search-hex --ignore-case --context --format --page-size --max-match --regex-timeout',
  plugin: 'list',
  completion: 'bash zsh',
};

function bashScript(): string {
  const cases = Object.entries(WORDS)
    .filter(([k]) => k !== '')
    .map(([k, v]) => `    ${k}) words="${v}" ;;`)
    .join('\n');
  return `# ckpt completion for bash: source <(ckpt completion bash)
_ckpt() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]} words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${WORDS['']}"
  else
    case "$cmd" in
${cases}
    *) words="" ;;
    esac
  fi
  if [[ "$cur" == -* || "$COMP_CWORD" -eq 1 || "$cmd" == plugin || "$cmd" == completion ]]; then
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _ckpt ckpt
`;
}

function zshScript(): string {
  return `#compdef ckpt
# ckpt completion for zsh: source <(ckpt completion zsh)
autoload -U bashcompinit && bashcompinit
${bashScript()}`;
}

export const completionCommand: CommandModule<object, CompletionArgs> = {
  command: 'completion [shell]',
  describe: 'Print a shell completion script (bash or zsh): source <(ckpt completion bash)',
  builder: (y) => y.positional('shell', { type: 'string', choices: ['bash', 'zsh'] as const, default: 'bash' as const, describe: 'the shell' }),
  handler: async (args) => {
    await out(args.shell === 'zsh' ? zshScript() : bashScript());
  },
};
