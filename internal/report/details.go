package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/fanout"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

// FailedJobOut is a failed job in the `workflows` output.
type FailedJobOut struct {
	Name   string    `json:"name"`
	Number int64     `json:"number,omitempty"`
	Status string    `json:"status"`
	URL    string    `json:"url"`
	Tests  []TestOut `json:"failed_tests,omitempty"`
	// MoreTests counts the failed tests left out after the first ten.
	MoreTests int `json:"more_failed_tests,omitempty"`
}

// TestOut is a failed test.
type TestOut struct {
	Name      string `json:"name"`
	Classname string `json:"classname,omitempty"`
	File      string `json:"file,omitempty"`
	Message   string `json:"message,omitempty"` // its first line
}

// AttemptOut is one wait of a run with retries.
type AttemptOut struct {
	Attempt   int           `json:"attempt"`
	Status    string        `json:"status"`
	Workflows []WorkflowOut `json:"workflows"`
	Reran     []string      `json:"reran,omitempty"` // workflows rerun from failed after it
}

// RerunOut is the workflow a rerun-workflow run reran.
type RerunOut struct {
	Workflow   string   `json:"workflow"`
	ID         string   `json:"id"`          // the workflow rerun
	WorkflowID string   `json:"workflow_id"` // the new workflow
	Jobs       []string `json:"jobs,omitempty"`
	FromFailed bool     `json:"from_failed,omitempty"`
}

// ArtifactOut is one element of the `artifacts` output.
type ArtifactOut struct {
	Target   string `json:"target,omitempty"` // fan-out only
	Workflow string `json:"workflow"`
	Job      string `json:"job"`
	Path     string `json:"path"`
	URL      string `json:"url"`
}

// failedJobStatus tells the job statuses that count as failed.
func failedJobStatus(s string) bool {
	switch s {
	case "failed", "infrastructure_fail", "timedout", "terminated-unknown", "unauthorized":
		return true
	}
	return false
}

func failedJobs(o fanout.Outcome, w circleci.Workflow, slug string, urls circleci.WebURLs) []FailedJobOut {
	var out []FailedJobOut
	for _, j := range o.Wait.Jobs[w.ID] {
		if !failedJobStatus(j.Status) {
			continue
		}
		fj := FailedJobOut{Name: j.Name, Number: j.Number, Status: j.Status, URL: urls.Job(slug, o.Pipeline.Number, w.ID, j)}
		ft := o.Details.Tests[j.ID]
		for _, t := range ft.Tests {
			fj.Tests = append(fj.Tests, TestOut{t.Name, t.Classname, t.File, t.Message})
		}
		fj.MoreTests = ft.More
		out = append(out, fj)
	}
	return out
}

func attempts(o fanout.Outcome, urls circleci.WebURLs) *[]AttemptOut {
	out := []AttemptOut{}
	slug := o.Pipeline.ProjectSlugOr(o.Request.Slug.String())
	for i, a := range attemptsOf(o) {
		ao := AttemptOut{Attempt: i + 1, Status: a.Status, Workflows: []WorkflowOut{}, Reran: a.Reran}
		for _, w := range a.Workflows {
			ao.Workflows = append(ao.Workflows, WorkflowOut{Name: w.Name, ID: w.ID, Status: w.Status, URL: urls.Workflow(slug, o.Pipeline.Number, w.ID)})
		}
		out = append(out, ao)
	}
	return &out
}

func rerun(o fanout.Outcome) *RerunOut {
	if o.Rerun == nil {
		return nil
	}
	r := o.Rerun
	return &RerunOut{Workflow: r.Workflow.Name, ID: r.Workflow.ID, WorkflowID: r.NewID, Jobs: r.Jobs, FromFailed: r.Failed}
}

func artifacts(o fanout.Outcome, target string) *[]ArtifactOut {
	out := []ArtifactOut{}
	for _, a := range o.Details.Artifacts {
		out = append(out, ArtifactOut{Target: target, Workflow: a.Workflow, Job: a.Job, Path: a.Path, URL: a.URL})
	}
	return &out
}

// attemptRows are the table's lines of a run with retries: one per
// attempt, before the workflows of the last one.
func attemptRows(o fanout.Outcome, indent string) []row {
	as := attemptsOf(o)
	if len(as) < 2 {
		return nil
	}
	var rs []row
	for i, a := range as {
		what := "the last"
		if len(a.Reran) > 0 {
			what = "then reran " + strings.Join(a.Reran, ", ") + " from failed"
		}
		rs = append(rs, row{"", fmt.Sprintf("%sattempt %d of %d", indent, i+1, len(as)), a.Status, "", what})
	}
	return rs
}

// testRows are the failed tests of a job, under it.
func testRows(ft wait.FailedTests, indent string) []row {
	var rs []row
	for _, t := range ft.Tests {
		rs = append(rs, row{"", indent + "test " + testName(t), t.Result, "", t.Message})
	}
	if ft.More > 0 {
		rs = append(rs, row{"", fmt.Sprintf("%sand %d more failed tests", indent, ft.More), "", "", ""})
	}
	return rs
}

// testName is a test's name with its class name, or else its file.
func testName(t circleci.Test) string {
	where := t.Classname
	if where == "" {
		where = t.File
	}
	switch {
	case where == "":
		return t.Name
	case t.Name == "":
		return where
	}
	return t.Name + " (" + where + ")"
}

// ArtifactsTable lists the artifacts of every job: workflow, job, path and
// URL (a fan-out's target first).
func ArtifactsTable(w io.Writer, outs []fanout.Outcome, fanout bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "WORKFLOW\tJOB\tARTIFACT\tURL"
	if fanout {
		head = "TARGET\t" + head
	}
	fmt.Fprintln(tw, head)
	n := 0
	for _, o := range outs {
		for _, a := range o.Details.Artifacts {
			n++
			cells := []string{a.Workflow, a.Job, a.Path, a.URL}
			if fanout {
				cells = append([]string{o.Label}, cells...)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
	}
	if n == 0 {
		fmt.Fprintln(tw, "(no artifact)")
	}
	tw.Flush()
}

// artifactsMarkdown lists the artifacts in the job summary, at most 50.
func artifactsMarkdown(outs []fanout.Outcome, fanout bool) string {
	var b strings.Builder
	n := 0
	for _, o := range outs {
		for _, a := range o.Details.Artifacts {
			if n++; n > 50 {
				continue
			}
			where := md(a.Workflow + " / " + a.Job)
			if fanout {
				where = md(o.Label) + " / " + where
			}
			fmt.Fprintf(&b, "- %s: [%s](%s)\n", where, md(mdLink(a.Path)), mdURL(a.URL))
		}
	}
	if n == 0 {
		return ""
	}
	if n > 50 {
		fmt.Fprintf(&b, "- and %d more (see the artifacts output)\n", n-50)
	}
	return "\n#### Artifacts\n\n" + b.String()
}

// mdLink keeps a link's text from closing it.
func mdLink(s string) string {
	return strings.NewReplacer("[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;").Replace(s)
}

// mdURL keeps a URL from closing its link.
func mdURL(s string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(s)
}

// reran reports a rerun of a workflow.
func (p *Printer) reran(o fanout.Outcome) {
	r := o.Rerun
	what := "rerun"
	switch {
	case r.Failed:
		what = "rerun from failed"
	case len(r.Jobs) > 0:
		what = "rerun with jobs " + strings.Join(r.Jobs, ", ")
	}
	slug := o.Pipeline.ProjectSlugOr(r.Workflow.ProjectSlug)
	p.result(o.Label, "Workflow %s of pipeline #%d %s: %s", r.Workflow.Name, o.Pipeline.Number, what,
		p.URLs.Workflow(slug, o.Pipeline.Number, r.NewID))
}

// Retrying reports a retry: attempt n of a run with retries.
func (p *Printer) Retrying(o fanout.Outcome, attempt int, workflows []string, retries int) {
	p.line(o.Label, "attempt %d of at most %d: rerunning %s from failed", attempt, retries+1, strings.Join(workflows, ", "))
}

// attemptsOf are the waits of an outcome with retries.
func attemptsOf(o fanout.Outcome) []wait.Attempt {
	if o.Wait == nil {
		return nil
	}
	return o.Wait.Attempts
}
