package cli_test

// The job summary renders as intended, wherever there is a summary file.

import (
	"strings"
	"testing"
)

const nbsp = "\u00a0"

// Rendered by a Markdown parser, the summary's table has a row per
// workflow, job and failed test, each indented as in the terminal's table,
// and every workflow and job links to its page.
func TestSummaryRendersAsIntended(t *testing.T) {
	t.Parallel()
	g := githubReruns(t, map[string]string{"project-slug": "gh/acme/broken", "wait": "true", "poll-interval": "1s"}).Run()
	g.Expect(t, 1)
	md := markdown(t, g.Summary)
	if len(md.Tables) != 1 || strings.Join(md.Tables[0].Header, "|") != "Workflow|Status|Duration" {
		t.Fatalf("tables: %+v\n%s", md.Tables, g.Summary)
	}
	var names []string
	for _, row := range md.Tables[0].Rows {
		if len(row) != 3 {
			t.Errorf("row %q has %d cells", row, len(row))
		}
		names = append(names, row[0])
	}
	want := []string{"tests", strings.Repeat(nbsp, 2) + "job e2e", strings.Repeat(nbsp, 4) + "test test_01 (tests/e2e_test.go) (expected 1, got 0)"}
	for i, w := range want {
		if i >= len(names) || names[i] != w {
			t.Errorf("row %d: %q, want %q\n%s", i, names, w, g.Summary)
			break
		}
	}
	links := map[string]string{}
	for _, l := range md.Links {
		links[l.Text] = l.Href
	}
	if !strings.Contains(links["tests"], "/workflows/") || !strings.Contains(links["job e2e"], "/jobs/") {
		t.Errorf("links: %v", links)
	}
}

// A run: step on GitHub is a CLI (stdout as in a shell), and writes the
// job summary all the same.
func TestSummaryInARunStep(t *testing.T) {
	t.Parallel()
	p := reruns(t, "--project-slug", "gh/acme/broken", "--wait", "--poll-interval", "1s").With(
		"GITHUB_ACTIONS", "true", "GITHUB_REPOSITORY", "acme/api", "GITHUB_REF", "refs/heads/main", "GITHUB_EVENT_NAME", "push")
	r := p.Run()
	r.Expect(t, 1)
	if strings.Contains(r.Stdout+r.Stderr, "::") {
		t.Errorf("a run: step printed a workflow command:\n%s%s", r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Summary, "### CircleCI pipeline [#1 of gh/acme/broken]") || !strings.Contains(r.Summary, "test test_01") {
		t.Errorf("summary:\n%s", r.Summary)
	}
}
