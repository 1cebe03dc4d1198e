package cli

import (
	"fmt"
	"strings"

	"github.com/circleci-trigger/circleci-trigger/internal/config"
	"github.com/circleci-trigger/circleci-trigger/internal/exit"
)

// completion prints a shell completion script: the flags, and the values
// of those that take one of a few words.
func (c *Command) completion(args []string) exit.Code {
	shell := ""
	if len(args) == 1 {
		shell = args[0]
	}
	flags := config.FlagNames()
	words := map[string]string{"on-hold": "wait succeed fail", "gha-parameters": "auto true false"}
	switch shell {
	case "bash":
		fmt.Fprintf(c.Stdout, `# bash completion for circleci-trigger; load with: source <(circleci-trigger completion bash)
_circleci_trigger() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    --on-hold) COMPREPLY=($(compgen -W %q -- "$cur")); return ;;
    --gha-parameters) COMPREPLY=($(compgen -W %q -- "$cur")); return ;;
    --targets) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [[ $COMP_CWORD -eq 1 && $cur != -* ]]; then
    COMPREPLY=($(compgen -W "completion" -- "$cur")); return
  fi
  COMPREPLY=($(compgen -W %q -- "$cur"))
}
complete -F _circleci_trigger circleci-trigger
`, words["on-hold"], words["gha-parameters"], "--"+strings.Join(flags, " --"))
	case "zsh":
		fmt.Fprintln(c.Stdout, "#compdef circleci-trigger\n# zsh completion for circleci-trigger; put it in your $fpath as _circleci-trigger")
		fmt.Fprintln(c.Stdout, "_arguments \\")
		for _, f := range flags {
			val := arg(f, words, ":%[1]s:(%[2]s)", ":targets:_files", ":%[1]s:", "")
			fmt.Fprintf(c.Stdout, "  '--%s[%s]%s' \\\n", f, strings.ReplaceAll(config.FlagUsage(f), "'", "'\\''"), zshEscape(val))
		}
		fmt.Fprintln(c.Stdout, "  '1:command:(completion)'")
	case "fish":
		fmt.Fprintln(c.Stdout, "# fish completion for circleci-trigger; save as ~/.config/fish/completions/circleci-trigger.fish")
		fmt.Fprintln(c.Stdout, "complete -c circleci-trigger -n __fish_use_subcommand -a completion -d 'print a shell completion script'")
		for _, f := range flags {
			opt := arg(f, words, " -x -a '%[2]s'", " -r -F", " -x", "")
			fmt.Fprintf(c.Stdout, "complete -c circleci-trigger -l %s%s -d '%s'\n", f, opt, strings.ReplaceAll(config.FlagUsage(f), "'", "\\'"))
		}
	default:
		fmt.Fprintln(c.Stderr, "circleci-trigger: usage: circleci-trigger completion bash|zsh|fish")
		return exit.BadInput
	}
	return exit.OK
}

// arg is how a shell completes the value of flag f: from its words, a
// file name (targets), any text, or nothing (a boolean flag). The formats
// take the flag's name and its words as arguments 1 and 2.
func arg(f string, words map[string]string, fromWords, file, text, none string) string {
	switch {
	case words[f] != "":
		return fmt.Sprintf(fromWords, f, words[f])
	case f == "targets":
		return file
	case config.IsBoolFlag(f):
		return none
	case strings.Contains(text, "%"):
		return fmt.Sprintf(text, f)
	}
	return text
}

func zshEscape(s string) string { return strings.ReplaceAll(s, "[", `\[`) }
