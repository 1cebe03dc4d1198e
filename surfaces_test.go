package main

// The action as its users meet it: action.yml's inputs and defaults passed
// the way the GitHub runner passes them. The orb's tests are in orb/.

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type actionFile struct {
	Inputs map[string]struct {
		Default *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]any `yaml:"outputs"`
	Runs    struct {
		Using string `yaml:"using"`
		Image string `yaml:"image"`
	} `yaml:"runs"`
}

func readAction(t *testing.T) actionFile {
	t.Helper()
	b, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// uses runs the action as the runner does: every input declared in
// action.yml arrives as INPUT_<NAME>, with its default unless with: sets it.
func uses(t *testing.T, with map[string]string) *process {
	a := readAction(t)
	p := github(t, nil)
	delete(p.env, "INPUT_TOKEN")
	for name, in := range a.Inputs {
		v := ""
		if in.Default != nil {
			v = *in.Default
		}
		if w, ok := with[name]; ok {
			v = w
		}
		p.env["INPUT_"+strings.ToUpper(name)] = v
	}
	return p
}

func TestActionDeclaresEveryInputAndOutput(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	want := []string{"branch", "cancel-on-exit", "definition-id", "fail-fast", "host", "max-poll-interval", "on-hold", "parameters",
		"pipeline-id", "poll-interval", "project-slug", "tag", "targets", "timeout", "token", "wait"}
	if got := slices.Sorted(maps.Keys(a.Inputs)); !slices.Equal(got, want) {
		t.Errorf("inputs = %v, want %v", got, want)
	}
	outs := []string{"created_at", "id", "number", "results", "state", "status", "url", "workflows"}
	if got := slices.Sorted(maps.Keys(a.Outputs)); !slices.Equal(got, outs) {
		t.Errorf("outputs = %v, want %v", got, outs)
	}
	if a.Runs.Using != "docker" || !strings.HasPrefix(a.Runs.Image, "docker://") {
		t.Errorf("runs = %+v, want a prebuilt docker image", a.Runs)
	}
	// The Dockerfile's entrypoint is the binary, which reads INPUT_*.
	df, _ := os.ReadFile("Dockerfile")
	if !strings.Contains(string(df), `ENTRYPOINT ["/usr/local/bin/circleci-trigger"]`) {
		t.Error("the image's entrypoint is not the binary")
	}
}

func TestActionAsTheRunnerRunsIt(t *testing.T) {
	t.Parallel()
	r := uses(t, map[string]string{"token": token, "wait": "true", "poll-interval": "50ms", "max-poll-interval": "200ms",
		"parameters": `{"deploy": true, "replicas": 2}`}).
		with("GITHUB_REF", "refs/tags/v1.0.0").run()
	r.expect(t, 0, "::group::Waiting for CircleCI")
	if got := jsonOf(body(t, r.requests("POST", "/project/gh/acme/api/pipeline")[0])); got != `{"parameters":{"deploy":true,"replicas":2},"tag":"v1.0.0"}` {
		t.Errorf("body = %s", got)
	}
	for _, k := range []string{"id", "number", "state", "created_at", "url", "status", "workflows"} {
		if r.outputs[k] == "" {
			t.Errorf("output %s is empty: %v", k, r.outputs)
		}
	}
	if r.outputs["status"] != "success" || !strings.Contains(r.summary, "| [build](") {
		t.Errorf("status %q, summary:\n%s", r.outputs["status"], r.summary)
	}
}
