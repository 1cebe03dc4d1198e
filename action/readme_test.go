package action_test

// The README's Action sections show what the tests run: each YAML example
// there is in a workflow of testdata/workflows, and those workflows run.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readmeExamples returns the code blocks of the README's Action section.
func readmeExamples(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "\n## Quick start: GitHub Action")
	end := strings.Index(s, "\n## Quick start: CircleCI orb")
	if start < 0 || end < start {
		t.Fatal("no GitHub Action section in README.md")
	}
	var blocks []string
	lines := strings.Split(s[start:end], "\n")
	for i := 0; i < len(lines); i++ {
		lang, ok := strings.CutPrefix(lines[i], "```")
		if !ok || (lang != "yaml" && lang != "diff") {
			continue
		}
		var block []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			l := lines[i]
			if lang == "diff" { // the workflow after the change
				if strings.HasPrefix(l, "-") {
					continue
				}
				l = l[1:]
			}
			block = append(block, l)
		}
		blocks = append(blocks, strings.Join(block, "\n"))
	}
	return blocks
}

// trimmed is the text's non-empty lines, without their indentation.
func trimmed(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func containsRun(haystack, needle []string) bool {
	for i := 0; i+len(needle) <= len(haystack); i++ {
		match := true
		for j := range needle {
			if haystack[i+j] != needle[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

func TestReadmeActionExamplesAreTestedWorkflows(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/workflows/*.yml")
	more, _ := filepath.Glob("testdata/workflows/official/*.yml")
	var workflows [][]string
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		workflows = append(workflows, trimmed(string(b)))
	}
	blocks := readmeExamples(t)
	if len(blocks) < 3 {
		t.Fatalf("%d examples in the README's Action section", len(blocks))
	}
	for _, b := range blocks {
		if strings.Contains(b, "<40-hex commit SHA") { // the shape of a pin, not a workflow
			continue
		}
		found := false
		for _, w := range workflows {
			found = found || containsRun(w, trimmed(b))
		}
		if !found {
			t.Errorf("this README example is in no workflow of testdata/workflows, so no test runs it:\n%s", b)
		}
	}
}

func TestReadmeQuickStart(t *testing.T) {
	t.Parallel()
	s, host := simulator(t)
	// The example leaves poll-interval to its default, which the
	// environment may set: the shortest allowed, against the simulator.
	r := act(t, "readme-quick-start.yml", host, actOptions{env: map[string]string{"CIRCLECI_TRIGGER_POLL_INTERVAL": "1s"}})
	if r.code != 0 {
		t.Errorf("act exited %d, want 0", r.code)
	}
	q := s.Matching("POST", "/project/gh/acme/e2e-tests/pipeline")
	if len(q) != 1 {
		t.Fatalf("%d triggers, want 1", len(q))
	}
	if got, want := canonical(bodyOf(t, q[0])), `{"parameters":{"environment":"staging","full":true}}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	e2e := r.step(t, "e2e")
	if e2e.result != "success" || e2e.outputs["status"] != "success" {
		t.Errorf("step %q, status %q: want success", e2e.result, e2e.outputs["status"])
	}
	want := "CircleCI pipeline 1 ended success (" + e2e.outputs["url"] + ")"
	found := false
	for _, st := range r.steps {
		found = found || strings.Contains(st.text(), want)
	}
	if !found {
		t.Errorf("no later step printed %q", want)
	}
}

func TestReadmeEnvironmentExample(t *testing.T) {
	t.Parallel()
	s, host := simulator(t)
	r := act(t, "readme-env.yml", host, actOptions{env: map[string]string{"CIRCLECI_TRIGGER_POLL_INTERVAL": "1s"}})
	if r.code != 0 {
		t.Errorf("act exited %d, want 0", r.code)
	}
	if n, m := len(s.Matching("POST", "/project/gh/acme/docs/pipeline")), len(s.Matching("POST", "/project/gh/acme/web/pipeline")); n != 1 || m != 1 {
		t.Fatalf("%d triggers of docs and %d of web, want 1 and 1", n, m)
	}
	if st := r.step(t, "docs").outputs["status"]; st != "success" {
		t.Errorf("docs: status %q, want success: CIRCLECI_TRIGGER_WAIT did not apply", st)
	}
	if st := r.step(t, "web").outputs["status"]; st != "triggered" {
		t.Errorf("web: status %q, want triggered: wait: false did not win", st)
	}
}
