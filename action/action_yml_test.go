package action_test

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository, where action.yml is.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

type actionFile struct {
	Inputs map[string]struct {
		Default  *string `yaml:"default"`
		Required bool    `yaml:"required"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
			Run   string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func readAction(t *testing.T) actionFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// The inputs the action takes (the README's table), the official action's, and the
// action's own choice of binary.
var (
	specInputs = []string{"token", "project-slug", "branch", "tag", "parameters", "definition-id", "host", "wait", "pipeline-id",
		"timeout", "poll-interval", "max-poll-interval", "on-hold", "fail-fast", "cancel-on-exit", "targets", "concurrency", "shard",
		"retry-failed", "rerun-workflow", "jobs", "artifacts", "gha-parameters"}
	compatInputs = []string{"target-slug", "target-branch", "target-tag", "GHA_Meta"}
	ownInputs    = []string{"binary-path", "download-url"}
	outputs      = []string{"id", "number", "state", "created_at", "url", "status", "workflows", "results", "artifacts"}
)

// envName is how the action passes an input to the binary.
func envName(input string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(input, "-", "_"))
}

func TestActionDeclaresEveryInputAndPassesItAsInputEnv(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	want := slices.Sorted(slices.Values(slices.Concat(specInputs, compatInputs, ownInputs)))
	if got := slices.Sorted(maps.Keys(a.Inputs)); !slices.Equal(got, want) {
		t.Errorf("inputs = %v\nwant %v", got, want)
	}
	for name, in := range a.Inputs {
		// A default would override the same setting given as env.
		if in.Default != nil || in.Required {
			t.Errorf("input %s has a default or is required: an input left empty must mean not set", name)
		}
	}
	if a.Runs.Using != "composite" || len(a.Runs.Steps) != 1 {
		t.Fatalf("runs: %q with %d steps, want one composite step", a.Runs.Using, len(a.Runs.Steps))
	}
	st := a.Runs.Steps[0]
	if st.Shell != "bash" || st.ID != "circleci-trigger" {
		t.Errorf("step: shell %q, id %q; want bash (on every runner, Git Bash on Windows) and circleci-trigger", st.Shell, st.ID)
	}
	if st.Env["CIRCLECI_TRIGGER_SURFACE"] != "action" {
		t.Error("the step does not set CIRCLECI_TRIGGER_SURFACE=action")
	}
	passed := map[string]bool{}
	for k, v := range st.Env {
		if !strings.HasPrefix(k, "INPUT_") {
			continue
		}
		m := regexp.MustCompile(`^\$\{\{ inputs\.([A-Za-z_-]+) \}\}$`).FindStringSubmatch(v)
		if m == nil || envName(m[1]) != k {
			t.Errorf("env %s: %q, want ${{ inputs.<name> }} of the input it names", k, v)
			continue
		}
		passed[m[1]] = true
	}
	for name := range a.Inputs {
		if !passed[name] {
			t.Errorf("input %s is not passed as %s", name, envName(name))
		}
	}
	if !strings.Contains(st.Run, "$GITHUB_ACTION_PATH/action/run.sh") || strings.Contains(st.Run, "${{") {
		t.Errorf("run: %q, want action/run.sh, and no expression in the script", st.Run)
	}
}

func TestActionMapsEveryOutput(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	if got, want := slices.Sorted(maps.Keys(a.Outputs)), slices.Sorted(slices.Values(outputs)); !slices.Equal(got, want) {
		t.Errorf("outputs = %v, want %v", got, want)
	}
	for name, o := range a.Outputs {
		if want := "${{ steps.circleci-trigger.outputs." + name + " }}"; o.Value != want {
			t.Errorf("output %s: value %q, want %q", name, o.Value, want)
		}
	}
}

// Every flag of the binary (but the CLI-only ones) is an input of the action.
func TestActionTakesEveryFlagOfTheBinary(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "run", ".", "--help")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "GITHUB_ACTIONS=", "CIRCLECI=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	a := readAction(t)
	cliOnly := []string{"help", "json", "param", "version"}
	flags := regexp.MustCompile(`(?m)^\s*--?([a-z][a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1)
	if len(flags) < 10 {
		t.Fatalf("found %d flags in --help:\n%s", len(flags), out)
	}
	for _, f := range flags {
		if _, ok := a.Inputs[f[1]]; !ok && !slices.Contains(cliOnly, f[1]) {
			t.Errorf("flag --%s is not an input of the action", f[1])
		}
	}
}
