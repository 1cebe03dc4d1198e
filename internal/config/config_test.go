package config

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/trigger"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func load(t *testing.T, args []string, kv map[string]string) (Config, error) {
	t.Helper()
	if _, ok := kv["CIRCLE_TOKEN"]; !ok {
		kv["CIRCLE_TOKEN"] = "fake-token-config"
	}
	return ReadEnvironment(env(kv)).Load(args, env(kv), io.Discard, "test")
}

func merged(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	kv := map[string]string{
		"INPUT_BRANCH":                  "from-input",
		"CIRCLECI_TRIGGER_BRANCH":       "from-env",
		"CIRCLECI_TRIGGER_PROJECT_SLUG": "gh/acme/env",
		"INPUT_TIMEOUT":                 "90",
		"CIRCLECI_TRIGGER_TIMEOUT":      "5m",
	}
	c, err := load(t, []string{"--branch", "from-flag"}, kv)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Targets[0]
	if r.Branch != "from-flag" || r.Slug.String() != "gh/acme/env" || c.WaitOpts.Timeout != 90*time.Second {
		t.Errorf("branch %q slug %s timeout %s", r.Branch, r.Slug, c.WaitOpts.Timeout)
	}
	c, _ = load(t, nil, kv)
	if c.Targets[0].Branch != "from-input" {
		t.Errorf("input lost to env: %q", c.Targets[0].Branch)
	}
	delete(kv, "INPUT_BRANCH")
	c, _ = load(t, nil, kv)
	if c.Targets[0].Branch != "from-env" {
		t.Errorf("env ignored: %q", c.Targets[0].Branch)
	}
}

func TestTokenAndHostSources(t *testing.T) {
	t.Parallel()
	c, err := load(t, []string{"--project-slug", "gh/a/b"}, map[string]string{"CIRCLE_TOKEN": "", "CCI_TOKEN": "fake-cci", "CCI_HOST": "ci.example.com"})
	if err != nil || c.Token != "fake-cci" || c.Host != "https://ci.example.com" || c.APIBase() != "https://ci.example.com/api/v2" {
		t.Errorf("token %q host %q err %v", c.Token, c.Host, err)
	}
	c, err = load(t, []string{"--project-slug", "gh/a/b"}, map[string]string{"INPUT_TOKEN": "fake-input", "CIRCLE_TOKEN": "fake-env", "CIRCLE_HOST": "https://circleci.example.com/api/v2/"})
	if err != nil || c.Token != "fake-input" || c.Host != "https://circleci.example.com" {
		t.Errorf("token %q host %q err %v", c.Token, c.Host, err)
	}
}

func TestGitHubDefaults(t *testing.T) {
	t.Parallel()
	fork := filepath.Join(t.TempDir(), "event.json")
	os.WriteFile(fork, []byte(`{"pull_request":{"head":{"repo":{"full_name":"someone/api"}},"base":{"repo":{"full_name":"acme/api"}}}}`), 0o600)
	same := filepath.Join(t.TempDir(), "event.json")
	os.WriteFile(same, []byte(`{"pull_request":{"head":{"repo":{"full_name":"acme/api"}},"base":{"repo":{"full_name":"acme/api"}}}}`), 0o600)
	base := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/api"}
	for _, tc := range []struct {
		name        string
		env         map[string]string
		args        []string
		slug        string
		branch, tag string
	}{
		{"push", map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/feature/x"}, nil, "gh/acme/api", "feature/x", ""},
		{"tag", map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1.2.3"}, nil, "gh/acme/api", "", "v1.2.3"},
		{"pull request", map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/42/merge", "GITHUB_HEAD_REF": "feature/y", "GITHUB_EVENT_PATH": same}, nil, "gh/acme/api", "feature/y", ""},
		{"pull request from a fork", map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/42/merge", "GITHUB_HEAD_REF": "main", "GITHUB_EVENT_PATH": fork}, nil, "gh/acme/api", "pull/42/head", ""},
		{"other project: its default branch", map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/feature/x"}, []string{"--project-slug", "gh/acme/other"}, "gh/acme/other", "", ""},
		{"same project, long vcs name", map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/dev"}, []string{"--project-slug", "github/Acme/API"}, "github/Acme/API", "dev", ""},
		{"explicit branch wins", map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1"}, []string{"--branch", "main"}, "gh/acme/api", "main", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, tc.args, merged(base, tc.env))
			if err != nil {
				t.Fatal(err)
			}
			r := c.Targets[0]
			if c.Surface != CLI || r.Slug.String() != tc.slug || r.Branch != tc.branch || r.Tag != tc.tag {
				t.Errorf("%s: slug %s branch %q tag %q", c.Surface, r.Slug, r.Branch, r.Tag)
			}
		})
	}
}

func TestCircleCIDefaults(t *testing.T) {
	t.Parallel()
	base := map[string]string{"CIRCLECI": "true", "CIRCLE_PROJECT_USERNAME": "acme", "CIRCLE_PROJECT_REPONAME": "api", "CIRCLE_REPOSITORY_URL": "git@github.com:acme/api.git"}
	for _, tc := range []struct {
		name        string
		env         map[string]string
		slug        string
		branch, tag string
	}{
		{"branch", map[string]string{"CIRCLE_BRANCH": "main"}, "gh/acme/api", "main", ""},
		{"tag", map[string]string{"CIRCLE_TAG": "v2"}, "gh/acme/api", "", "v2"},
		{"fork pull request", map[string]string{"CIRCLE_BRANCH": "pull/7"}, "gh/acme/api", "pull/7/head", ""},
		{"bitbucket", map[string]string{"CIRCLE_REPOSITORY_URL": "https://bitbucket.org/acme/api", "CIRCLE_BRANCH": "dev"}, "bb/acme/api", "dev", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, nil, merged(base, tc.env))
			if err != nil {
				t.Fatal(err)
			}
			r := c.Targets[0]
			if c.Surface != CircleCI || r.Slug.String() != tc.slug || r.Branch != tc.branch || r.Tag != tc.tag {
				t.Errorf("%s: slug %s branch %q tag %q", c.Surface, r.Slug, r.Branch, r.Tag)
			}
		})
	}
}

// Every bad input the README lists is refused with a one-line message that says
// what to fix.
func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no slug", nil, nil, "no project-slug"},
		{"bad slug", []string{"--project-slug", "acme/api"}, nil, "three parts"},
		{"branch and tag", []string{"--project-slug", "gh/a/b", "--branch", "x", "--tag", "y"}, nil, "exclusive"},
		{"parameters not an object", []string{"--project-slug", "gh/a/b", "--parameters", "[1]"}, nil, "must be a JSON object"},
		{"nested parameter", []string{"--project-slug", "gh/a/b", "--parameters", `{"a":{"b":1}}`}, nil, "nested object"},
		{"float parameter", []string{"--project-slug", "gh/a/b", "--parameters", `{"a":1.5}`}, nil, "only integers, strings and booleans"},
		{"too long value", []string{"--project-slug", "gh/a/b", "--parameters", `{"a":"` + strings.Repeat("v", 513) + `"}`}, nil, "at most 512"},
		{"no token", []string{"--project-slug", "gh/a/b"}, map[string]string{"CIRCLE_TOKEN": ""}, "no token"},
		{"token with newline", []string{"--project-slug", "gh/a/b"}, map[string]string{"CIRCLE_TOKEN": "fake\nx"}, "cannot be sent in a header"},
		{"circleci slug without definition", []string{"--project-slug", "circleci/o/p"}, nil, "set definition-id"},
		{"http host", []string{"--project-slug", "gh/a/b", "--host", "http://ci.example.com"}, nil, "use https"},
		{"bad duration", []string{"--project-slug", "gh/a/b", "--timeout", "soon"}, nil, "timeout: \"soon\" is not a duration"},
		{"zero duration", []string{"--project-slug", "gh/a/b", "--poll-interval", "0"}, nil, "more than zero"},
		{"too fast for CircleCI", []string{"--project-slug", "gh/a/b", "--poll-interval", "100ms"}, nil, "too fast"},
		{"max below min", []string{"--project-slug", "gh/a/b", "--poll-interval", "10s", "--max-poll-interval", "5s"}, nil, "smaller than poll-interval"},
		{"on-hold", []string{"--project-slug", "gh/a/b", "--on-hold", "ignore"}, nil, "not wait, succeed or fail"},
		{"bool input", []string{"--project-slug", "gh/a/b"}, map[string]string{"INPUT_WAIT": "yes please"}, "not true or false"},
		{"pipeline-id shape", []string{"--pipeline-id", "123"}, nil, "not a pipeline id"},
		{"pipeline-id with parameters", []string{"--pipeline-id", "b6de2aa3-4b18-4dde-aaed-73f9528135fe", "--parameters", "{}"}, nil, "cannot be used with pipeline-id"},
		{"targets and slug", []string{"--project-slug", "gh/a/b", "--targets", `[{"project-slug":"gh/a/c"}]`}, nil, "cannot be used with targets"},
		{"targets not an array", []string{"--targets", `{"project-slug":"gh/a/c"}`}, nil, "not a JSON array and not a readable file"},
		{"empty targets", []string{"--targets", `[]`}, nil, "array is empty"},
		{"target typo", []string{"--targets", `[{"project-slug":"gh/a/c"},{"project-slug":"gh/a/d","brnach":"x"}]`}, nil, `targets[1]: unknown field "brnach"`},
		{"target bad parameters", []string{"--targets", `[{"project-slug":"gh/a/c","parameters":{"x":1.5}}]`}, nil, "targets[0]: gh/a/c: parameters"},
		{"duplicate targets", []string{"--targets", `[{"project-slug":"gh/a/c"},{"project-slug":"gh/a/c"}]`}, nil, "same as targets[0]"},
		{"stray argument", []string{"--project-slug", "gh/a/b", "deploy"}, nil, `unexpected argument "deploy"`},
		{"unknown flag", []string{"--project", "gh/a/b"}, nil, "unknown flag --project (see --help)"},
		{"bad param", []string{"--project-slug", "gh/a/b", "--param", "deploy"}, nil, `--param "deploy": not key=value`},
		{"param not a JSON string", []string{"--project-slug", "gh/a/b", "--param", `env="prod`}, nil, "is not a JSON string"},
		{"gha-parameters", []string{"--project-slug", "gh/a/b", "--gha-parameters", "yes"}, nil, `gha-parameters: "yes" is not auto, true or false`},
		{"no token in the Action", nil, map[string]string{"CIRCLE_TOKEN": "", "CIRCLECI_TRIGGER_SURFACE": "action", "INPUT_PROJECT_SLUG": "gh/a/b"}, "set the token input"},
		{"slug given as a URL", []string{"--project-slug", "https://app.circleci.com/pipelines/github/a/b"}, nil, "give the slug, not the project's URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.args, merged(tc.env))
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InputError", err)
			}
			found := false
			for _, e := range ie.Errs {
				if strings.Contains(e.Error(), "\n") {
					t.Errorf("not one line: %q", e)
				}
				found = found || strings.Contains(e.Error(), tc.want)
			}
			if !found {
				t.Errorf("errors %q do not mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "fake") {
				t.Errorf("the token is in the error: %q", err)
			}
		})
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	t.Parallel()
	_, err := load(t, []string{"--project-slug", "gh/a/b", "--branch", "x", "--tag", "y", "--timeout", "x", "--on-hold", "z"}, map[string]string{"CIRCLE_TOKEN": ""})
	var ie *InputError
	if !errors.As(err, &ie) || len(ie.Errs) != 4 {
		t.Fatalf("err = %v, want 4 problems", err)
	}
}

func TestTargets(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "targets.json")
	os.WriteFile(file, []byte(`[{"project-slug":"gh/a/c","parameters":{"x":2}},{"project-slug":"gh/a/d","tag":"v1"}]`), 0o600)
	c, err := load(t, []string{"--targets", file, "--parameters", `{"x":1,"y":true}`}, map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	want := []trigger.Request{
		{Slug: circleci.Slug{VCS: "gh", Org: "a", Project: "c"}, Parameters: trigger.Parameters{"x": int64(2), "y": true}},
		{Slug: circleci.Slug{VCS: "gh", Org: "a", Project: "d"}, Tag: "v1", Parameters: trigger.Parameters{"x": int64(1), "y": true}},
	}
	if !c.Fanout || !reflect.DeepEqual(c.Targets, want) {
		t.Errorf("targets = %+v, want %+v", c.Targets, want)
	}
}

func TestPipelineIDImpliesWait(t *testing.T) {
	t.Parallel()
	c, err := load(t, []string{"--pipeline-id", "b6de2aa3-4b18-4dde-aaed-73f9528135fe"}, map[string]string{})
	if err != nil || !c.Wait || len(c.Targets) != 0 {
		t.Errorf("%+v, %v", c, err)
	}
}

// Polling is as gentle against the simulator as against CircleCI: no
// host is special.
func TestNoHostMayPollFasterThanASecond(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"http://127.0.0.1:8080", "https://circleci.com"} {
		_, err := load(t, []string{"--project-slug", "gh/a/b", "--host", host, "--poll-interval", "50ms"}, map[string]string{})
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "poll-interval: 50ms is too fast; use 1s or more") {
			t.Errorf("host %s: err = %v", host, err)
		}
	}
}

func TestParam(t *testing.T) {
	t.Parallel()
	c, err := load(t, []string{"--project-slug", "gh/a/b", "--parameters", `{"env": "dev", "n": 1, "keep": true}`,
		"--param", "env=prod", "--param", "n=3", "--param", `s="3"`, "--param", "deploy=true", "--param", "eq=a=b"}, map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	want := trigger.Parameters{"env": "prod", "n": int64(3), "s": "3", "deploy": true, "keep": true, "eq": "a=b"}
	if got := c.Targets[0].Parameters; !reflect.DeepEqual(got, want) {
		t.Errorf("parameters = %#v, want %#v", got, want)
	}
}

// An input the user did not set never overrides configuration given
// another way; action.yml passes inputs as INPUT_NAME with underscores.
func TestActionInputsAndEnvironment(t *testing.T) {
	t.Parallel()
	base := map[string]string{"CIRCLECI_TRIGGER_SURFACE": "action", "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/api",
		"GITHUB_REF": "refs/heads/main", "INPUT_TOKEN": "fake-input-token", "CIRCLE_TOKEN": ""}
	c, err := load(t, nil, merged(base, map[string]string{"INPUT_WAIT": "", "CIRCLECI_TRIGGER_WAIT": "true", "INPUT_ON_HOLD": "",
		"CIRCLECI_TRIGGER_ON_HOLD": "fail", "INPUT_PROJECT_SLUG": "gh/acme/other", "INPUT_POLL_INTERVAL": "5s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Surface != Action || !c.Wait || c.WaitOpts.OnHold != "fail" || c.WaitOpts.PollInterval != 5*time.Second ||
		c.Targets[0].Slug.String() != "gh/acme/other" || c.Token != "fake-input-token" {
		t.Errorf("surface %v wait %v on-hold %q poll %s slug %s", c.Surface, c.Wait, c.WaitOpts.OnHold, c.WaitOpts.PollInterval, c.Targets[0].Slug)
	}
	if len(c.Targets[0].Parameters) != 0 {
		t.Errorf("a new user's step sends %v", c.Targets[0].Parameters)
	}
}

// CircleCI's official action: its inputs and variables work, and a step
// configured its way sends the GHA_* parameters it sent.
func TestOfficialActionCompatibility(t *testing.T) {
	t.Parallel()
	gh := map[string]string{"CIRCLECI_TRIGGER_SURFACE": "action", "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/api",
		"GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_NAME": "push", "GITHUB_ACTOR": "octocat", "GITHUB_ACTION": "__run_2", "CIRCLE_TOKEN": ""}
	gha := trigger.Parameters{"GHA_Actor": "octocat", "GHA_Action": "__run_2", "GHA_Event": "push"}
	for _, tc := range []struct {
		name         string
		env          map[string]string
		slug, branch string
		tag          string
		params       trigger.Parameters
	}{
		{"CCI_TOKEN only", map[string]string{"CCI_TOKEN": "fake-cci"}, "gh/acme/api", "main", "", gha},
		{"inputs", map[string]string{"INPUT_TOKEN": "fake", "INPUT_TARGET_SLUG": "gh/acme/other", "INPUT_TARGET_BRANCH": "dev", "INPUT_GHA_META": "m"},
			"gh/acme/other", "dev", "", trigger.Merge(gha, trigger.Parameters{"GHA_Meta": "m"})},
		{"variables", map[string]string{"CCI_TOKEN": "fake-cci", "TARGET_SLUG": "gh/acme/other", "TARGET_TAG": "v1"}, "gh/acme/other", "", "v1", gha},
		{"parameters win", map[string]string{"CCI_TOKEN": "fake-cci", "INPUT_PARAMETERS": `{"GHA_Event": "mine", "x": 1}`},
			"gh/acme/api", "main", "", trigger.Merge(gha, trigger.Parameters{"GHA_Event": "mine", "x": int64(1)})},
		{"turned off", map[string]string{"CCI_TOKEN": "fake-cci", "INPUT_GHA_PARAMETERS": "false"}, "gh/acme/api", "main", "", trigger.Parameters{}},
		{"turned on for a new user", map[string]string{"INPUT_TOKEN": "fake", "INPUT_GHA_PARAMETERS": "true"}, "gh/acme/api", "main", "", gha},
		{"our names win; the run's ref goes to any project", map[string]string{"CCI_TOKEN": "fake-cci", "TARGET_SLUG": "gh/acme/other", "INPUT_PROJECT_SLUG": "gh/acme/web"}, "gh/acme/web", "main", "", gha},
		{"a pull request is pull/N/head", map[string]string{"CCI_TOKEN": "fake-cci", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_HEAD_REF": "feature/login"},
			"gh/acme/api", "pull/7/head", "", trigger.Merge(gha, trigger.Parameters{"GHA_Event": "pull_request"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, nil, merged(gh, tc.env))
			if err != nil {
				t.Fatal(err)
			}
			r := c.Targets[0]
			if r.Slug.String() != tc.slug || r.Branch != tc.branch || r.Tag != tc.tag || !reflect.DeepEqual(r.Parameters, tc.params) {
				t.Errorf("slug %s branch %q tag %q parameters %v; want %s %q %q %v", r.Slug, r.Branch, r.Tag, r.Parameters, tc.slug, tc.branch, tc.tag, tc.params)
			}
		})
	}
	// Outside the Action, TARGET_* mean nothing and no GHA_* is sent.
	c, err := load(t, []string{"--project-slug", "gh/a/b"}, map[string]string{"CCI_TOKEN": "fake-cci", "CIRCLE_TOKEN": "", "TARGET_SLUG": "gh/x/y"})
	if err != nil || c.Targets[0].Slug.String() != "gh/a/b" || len(c.Targets[0].Parameters) != 0 {
		t.Errorf("CLI: %+v %v", c.Targets, err)
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"90": 90 * time.Second, "1.5": 1500 * time.Millisecond, "30m": 30 * time.Minute, "1h30m": 90 * time.Minute, " 2s ": 2 * time.Second} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"": "is not a duration", "0": "must be more than zero", "-1s": "must be more than zero",
		"1e9": "is not a duration", "forever": "is not a duration", "8d": "is not a duration", "200h": "out of range",
		"99999999999": "out of range"} {
		if got, err := ParseDuration(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDuration(%q) = %s, %v; want an error saying %q", in, got, err, want)
		}
	}
}

// FuzzParseDuration: what it accepts prints back to itself, and it agrees
// with time.ParseDuration wherever that reads a Go duration in range.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90", "1.5", "30m", "-1s", "1e3", "9999999999999999999", "1h0.5m", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil {
			if back, err := ParseDuration(d.String()); err != nil || back != d {
				t.Fatalf("ParseDuration(%q) = %s, which reads back as %s, %v", s, d, back, err)
			}
		}
		if g, gerr := time.ParseDuration(strings.TrimSpace(s)); gerr == nil && g > 0 && g <= 7*24*time.Hour && (err != nil || d != g) {
			t.Fatalf("ParseDuration(%q) = %s, %v; time.ParseDuration says %s", s, d, err, g)
		}
	})
}

// FuzzTargets: a target list it accepts, written back as JSON, reads back
// to the same requests, one per element of the array.
func FuzzTargets(f *testing.F) {
	for _, s := range []string{`[{"project-slug":"gh/a/b"}]`, `[{"project-slug":"gh/a/b","parameters":{"x":1}},{"project-slug":"bb/c/d","tag":"v1"}]`, `[{}]`, `[1]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !strings.HasPrefix(strings.TrimSpace(s), "[") {
			return // anything else is a file name
		}
		reqs, err := parseTargets(s, nil)
		if err != nil {
			return
		}
		var elems []json.RawMessage
		if json.Unmarshal([]byte(s), &elems) != nil || len(elems) != len(reqs) {
			t.Fatalf("%q: %d targets from %d elements", s, len(reqs), len(elems))
		}
		var out []map[string]any
		for _, r := range reqs {
			out = append(out, map[string]any{"project-slug": r.Slug.String(), "branch": r.Branch, "tag": r.Tag,
				"parameters": r.Parameters, "definition-id": r.DefinitionID})
		}
		b, _ := json.Marshal(out)
		back, err := parseTargets(string(b), nil)
		if err != nil || !reflect.DeepEqual(back, reqs) {
			t.Fatalf("%q: written back as %s, read as %+v, %v; want %+v", s, b, back, err, reqs)
		}
	})
}

// --help lists every flag once, in its group.
func TestUsageListsEveryFlag(t *testing.T) {
	listed := map[string]int{}
	for _, g := range usageGroups {
		for _, f := range g.flags {
			listed[f[0]]++
		}
	}
	for _, name := range FlagNames() {
		if listed[name] != 1 {
			t.Errorf("--help lists --%s %d times, want once", name, listed[name])
		}
		delete(listed, name)
	}
	for name := range listed {
		t.Errorf("--help lists --%s, which is not a flag", name)
	}
}
