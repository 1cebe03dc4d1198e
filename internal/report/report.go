// Package report shows what happened: a line per trigger, a line per change
// while waiting, a final table (text and GitHub job-summary markdown), and
// the outputs (GitHub outputs, --json).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/exit"
	"github.com/circleci-trigger/circleci-trigger/internal/fanout"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

// Printer writes human lines. It is safe for concurrent use by the
// targets of a fan-out.
type Printer struct {
	Log io.Writer // progress and warnings
	// Results takes the trigger line (the pipeline's URL, a script's
	// result); nil: Log.
	Results io.Writer
	URLs    circleci.WebURLs
	Fanout  bool // prefix lines with the target
	// Warn, when set, shows warnings (GitHub: as ::warning:: annotations);
	// else they are lines of Log.
	Warn func(msg string)
	// OnHold is the on-hold policy: with wait, a hold says how to end it.
	OnHold string

	mu     sync.Mutex
	hinted map[string]bool // the held workflows told how to end the hold
}

func (p *Printer) line(label, format string, args ...any) { p.to(p.Log, label, format, args...) }

// result writes a line of the results.
func (p *Printer) result(label, format string, args ...any) {
	w := p.Results
	if w == nil {
		w = p.Log
	}
	p.to(w, label, format, args...)
}

func (p *Printer) to(w io.Writer, label, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Fanout {
		fmt.Fprintf(w, "[%s] ", label)
	}
	fmt.Fprintf(w, format+"\n", args...)
}

// Triggered reports a new pipeline, or CircleCI's reason for creating none,
// or a rerun.
func (p *Printer) Triggered(o fanout.Outcome) {
	if o.Rerun != nil {
		p.reran(o)
		return
	}
	if o.Trigger.NotCreated != "" {
		p.result(o.Label, "CircleCI created no pipeline for %s on %s: %s", o.Request.Slug, o.Request.Ref(), o.Trigger.NotCreated)
		return
	}
	pl := o.Pipeline
	how := "triggered"
	if o.Trigger.Adopted {
		how = "triggered (found after a lost answer)"
	}
	p.result(o.Label, "Pipeline #%d of %s on %s %s: %s", pl.Number, o.Request.Slug, o.Request.Ref(), how, p.URLs.Pipeline(pl.ProjectSlugOr(o.Request.Slug.String()), pl.Number))
}

// Progress reports one change while waiting.
func (p *Printer) Progress(label string, ev wait.Event) {
	if len(ev.Waiting) > 0 {
		approve := ""
		if n := len(ev.Held); n > 0 {
			links := make([]string, n)
			for i, w := range ev.Held {
				links[i] = p.URLs.Workflow(w.ProjectSlug, w.PipelineNumber, w.ID)
			}
			them := "them"
			if n == 1 {
				them = "it"
			}
			approve = fmt.Sprintf(" (approve %s at %s)", them, strings.Join(links, ", "))
		}
		p.line(label, "%s  still waiting for %s%s", clockTime(ev.Elapsed), strings.Join(ev.Waiting, ", "), approve)
		return
	}
	if ev.Workflow.ID == "" {
		p.line(label, "%s  pipeline %s", clockTime(ev.Elapsed), ev.State)
		return
	}
	w := ev.Workflow
	note := ""
	switch {
	case ev.AutoRerun > 0:
		note = fmt.Sprintf("  CircleCI reruns it automatically (%d of %d)", ev.AutoRerun, w.MaxAutoReruns)
	case w.AutoRerunNumber > 0:
		note = fmt.Sprintf("  rerun automatically (%d of %d)", w.AutoRerunNumber, w.MaxAutoReruns)
	}
	link := p.URLs.Workflow(w.ProjectSlug, w.PipelineNumber, w.ID)
	p.line(label, "%s  %-24s %-10s %s%s", clockTime(ev.Elapsed), w.Name, w.Status, link, note)
	if w.Status == "on_hold" && (p.OnHold == wait.HoldWait || p.OnHold == "") && p.hint(w.ID) {
		p.line(label, "%s is on hold, waiting for approval: approve it at %s, or set on-hold to succeed or fail not to wait", w.Name, link)
	}
}

// hint tells whether a held workflow is still to be told how to end its
// hold, and records that it is told.
func (p *Printer) hint(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hinted[id] {
		return false
	}
	if p.hinted == nil {
		p.hinted = map[string]bool{}
	}
	p.hinted[id] = true
	return true
}

// Aftermath reports what a wait did on the way out: the workflows it
// canceled, or that nothing ran at all.
func (p *Printer) Aftermath(o fanout.Outcome) {
	if o.Wait == nil {
		return
	}
	for _, w := range o.Wait.Canceled {
		p.Logf(o.Label, "canceled workflow %s (cancel-on-exit)", w.Name)
	}
	if o.Wait.Status == wait.StatusNoWorkflows {
		p.Logf(o.Label, "pipeline #%d finished without running any workflow (filters or when: conditions?)", o.Pipeline.Number)
	}
}

// Logf reports something unusual.
func (p *Printer) Logf(label, format string, args ...any) {
	if p.Warn == nil {
		p.line(label, "warning: "+format, args...)
		return
	}
	msg := fmt.Sprintf(format, args...)
	if p.Fanout {
		msg = "[" + label + "] " + msg
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Warn(msg)
}

func clockTime(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// Table writes the final table: one row per workflow, and under failed or
// held workflows their failed or waiting jobs.
func Table(w io.Writer, outs []fanout.Outcome, urls circleci.WebURLs, fanout bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if fanout {
		fmt.Fprintln(tw, "TARGET\tPIPELINE / WORKFLOW\tSTATUS\tDURATION\tLINK")
	} else {
		fmt.Fprintln(tw, "WORKFLOW\tSTATUS\tDURATION\tLINK")
	}
	for _, r := range rows(outs, urls, fanout) {
		cells := []string{r.workflow, r.status, r.duration, r.link}
		if fanout {
			cells = append([]string{r.target}, cells...)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

// Markdown is the job summary. It leads with the pipeline and how it went,
// then the table.
func Markdown(outs []fanout.Outcome, urls circleci.WebURLs, fanout bool) string {
	var b strings.Builder
	status := Summarize(outs, urls, Asked{Fanout: fanout}).Status
	switch {
	case fanout || len(outs) == 0:
		n := 0
		for _, o := range outs {
			if o.Pipeline.ID != "" {
				n++
			}
		}
		fmt.Fprintf(&b, "### CircleCI: %d pipelines for %d targets: %s %s\n\n", n, len(outs), icon(status), status)
	case outs[0].Pipeline.ID != "":
		o := outs[0]
		slug := o.Pipeline.ProjectSlugOr(o.Request.Slug.String())
		fmt.Fprintf(&b, "### CircleCI pipeline [#%d of %s](%s): %s %s\n\n", o.Pipeline.Number, md(slug),
			urls.Pipeline(slug, o.Pipeline.Number), icon(status), status)
	default:
		fmt.Fprintf(&b, "### CircleCI: %s: %s %s\n\n", md(outs[0].Label), icon(status), status)
	}
	if fanout {
		b.WriteString("| Target | Pipeline / workflow | Status | Duration |\n|---|---|---|---|\n")
	} else {
		b.WriteString("| Workflow | Status | Duration |\n|---|---|---|\n")
	}
	for _, r := range rows(outs, urls, fanout) {
		// Markdown collapses spaces: the indentation is non-breaking.
		text := strings.TrimLeft(r.workflow, " ")
		name := md(text)
		if strings.HasPrefix(r.link, "http") {
			name = fmt.Sprintf("[%s](%s)", name, r.link)
		} else if r.link != "" {
			name += " (" + md(r.link) + ")"
		}
		name = strings.Repeat("&nbsp;", len(r.workflow)-len(text)) + name
		if fanout {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", md(r.target), name, md(r.status), r.duration)
		} else {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", name, md(r.status), r.duration)
		}
	}
	b.WriteString(artifactsMarkdown(outs, fanout))
	if chart := Gantt(outs, fanout); chart != "" {
		b.WriteString("\n```mermaid\n" + chart + "```\n")
	}
	return b.String()
}

func md(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// icon marks a status in the job summary.
func icon(status string) string {
	switch status {
	case wait.StatusSuccess, wait.StatusTriggered:
		return "✅"
	case wait.StatusFailed, wait.StatusErrored, "not-triggered":
		return "❌"
	case wait.StatusCanceled, wait.StatusTimedOut:
		return "⏹️"
	case wait.StatusOnHold:
		return "⏸️"
	}
	return "⚠️"
}

type row struct{ target, workflow, status, duration, link string }

// rows are the table's lines. A fan-out has a line per target (its
// pipeline, status, wait and link, or why it was not triggered), with its
// workflows under it; under a failed or held workflow, its jobs that failed
// or wait for approval.
func rows(outs []fanout.Outcome, urls circleci.WebURLs, fanout bool) []row {
	var rs []row
	indent := ""
	if fanout {
		indent = "  "
	}
	for _, o := range outs {
		slug := o.Pipeline.ProjectSlugOr(o.Request.Slug.String())
		link, pipeline := "", "-"
		if o.Pipeline.ID != "" {
			link, pipeline = urls.Pipeline(slug, o.Pipeline.Number), fmt.Sprintf("pipeline #%d", o.Pipeline.Number)
		} else if o.Err != nil {
			link = oneLine(o.Err.Error())
		}
		if fanout {
			took := ""
			if o.Wait != nil {
				took = o.Wait.Elapsed.Round(time.Second).String()
			}
			rs = append(rs, row{o.Label, pipeline, o.Status(), took, link})
		}
		switch {
		case o.Wait == nil:
			if !fanout {
				rs = append(rs, row{o.Label, pipeline, o.Status(), "", link})
			}
			continue
		case len(o.Wait.Workflows) == 0:
			rs = append(rs, row{"", indent + "(no workflow)", o.Status(), "", link})
			continue
		}
		rs = append(rs, attemptRows(o, indent)...)
		for _, w := range o.Wait.Workflows {
			// A workflow CircleCI reran by itself shows its attempts (those of
			// retry-failed have rows of their own).
			earlier := o.Wait.Earlier[w.Name]
			if w.AutoRerunNumber == 0 {
				earlier = nil
			}
			for _, e := range earlier {
				rs = append(rs, row{"", indent + runName(e), e.Status, duration(e), urls.Workflow(slug, o.Pipeline.Number, e.ID)})
			}
			rs = append(rs, row{"", indent + runName(w), w.Status, duration(w), urls.Workflow(slug, o.Pipeline.Number, w.ID)})
			for _, j := range o.Wait.Jobs[w.ID] {
				rs = append(rs, row{"", indent + "  job " + j.Name, j.Status, "", urls.Job(slug, o.Pipeline.Number, w.ID, j)})
				rs = append(rs, testRows(o.Details.Tests[j.ID], indent+"    ")...)
			}
		}
	}
	return rs
}

// runName names a run of a workflow: its name, and which automatic rerun
// it is.
func runName(w circleci.Workflow) string {
	if w.AutoRerunNumber > 0 {
		return fmt.Sprintf("%s, rerun automatically (%d of %d)", w.Name, w.AutoRerunNumber, w.MaxAutoReruns)
	}
	return w.Name
}

// duration of a finished workflow (its times have whole seconds).
func duration(w circleci.Workflow) string {
	switch {
	case w.CreatedAt.IsZero():
		return ""
	case w.Status == "on_hold" && !w.AsOf.IsZero():
		return "on hold " + w.AsOf.Sub(w.CreatedAt).Round(time.Second).String()
	case w.StoppedAt.IsZero():
		return "running"
	}
	return w.StoppedAt.Sub(w.CreatedAt).Round(time.Second).String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// WorkflowOut is one element of the `workflows` output.
type WorkflowOut struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Status string `json:"status"`
	URL    string `json:"url"`
	// FailedJobs are the failed jobs of a failed workflow, with their
	// failed tests.
	FailedJobs []FailedJobOut `json:"failed_jobs,omitempty"`
	// MaxAutoReruns and AutoRerunNumber are CircleCI's, for a workflow it
	// reruns by itself; Runs are the earlier runs a rerun replaced.
	MaxAutoReruns   int      `json:"max_auto_reruns,omitempty"`
	AutoRerunNumber int      `json:"auto_rerun_number,omitempty"`
	Runs            []RunOut `json:"runs,omitempty"`
}

// RunOut is an earlier run of a workflow.
type RunOut struct {
	ID              string `json:"id"`
	Status          string `json:"status"`
	URL             string `json:"url"`
	AutoRerunNumber int    `json:"auto_rerun_number,omitempty"`
}

// Result is the outputs of one target; the top level of --json and of the
// Action's outputs is the same object for a single target. Its keys are
// the same in every outcome: a value it has not is "", null or [], and
// what a run asked for besides (attempts, rerun, artifacts, results) is
// there whatever came of it.
type Result struct {
	ProjectSlug string         `json:"project-slug,omitempty"` // a fan-out's targets
	Branch      string         `json:"branch,omitempty"`
	Tag         string         `json:"tag,omitempty"`
	ID          string         `json:"id"`
	Number      *int64         `json:"number"` // null: no pipeline
	State       string         `json:"state"`
	CreatedAt   string         `json:"created_at"`
	URL         string         `json:"url"`
	Status      string         `json:"status"`
	Workflows   []WorkflowOut  `json:"workflows"`
	ExitCode    exit.Code      `json:"exit_code"`
	Error       string         `json:"error"`
	Message     string         `json:"message"` // why no pipeline was created
	Attempts    *[]AttemptOut  `json:"attempts,omitempty"`
	Rerun       *RerunOut      `json:"rerun,omitempty"`
	Artifacts   *[]ArtifactOut `json:"artifacts,omitempty"`
	Results     *[]Result      `json:"results,omitempty"`
}

// Asked are the outputs a run asked for besides those of every run.
type Asked struct {
	Fanout    bool // results
	Attempts  bool // retry-failed
	Artifacts bool
}

func result(o fanout.Outcome, urls circleci.WebURLs, asked Asked) Result {
	r := Result{Status: o.Status(), Workflows: []WorkflowOut{}, Message: o.Trigger.NotCreated, ExitCode: o.Code}
	if o.Err != nil {
		r.Error = oneLine(o.Err.Error())
	}
	if p := o.Pipeline; p.ID != "" {
		slug := p.ProjectSlugOr(o.Request.Slug.String())
		r.ID, r.State, r.URL = p.ID, p.State, urls.Pipeline(slug, p.Number)
		if p.Number != 0 {
			r.Number = &p.Number
		}
		if !p.CreatedAt.IsZero() {
			r.CreatedAt = p.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		if o.Wait != nil {
			for _, w := range o.Wait.Workflows {
				out := WorkflowOut{Name: w.Name, ID: w.ID, Status: w.Status, URL: urls.Workflow(slug, p.Number, w.ID),
					FailedJobs: failedJobs(o, w, slug, urls), MaxAutoReruns: w.MaxAutoReruns, AutoRerunNumber: w.AutoRerunNumber}
				for _, e := range o.Wait.Earlier[w.Name] {
					out.Runs = append(out.Runs, RunOut{e.ID, e.Status, urls.Workflow(slug, p.Number, e.ID), e.AutoRerunNumber})
				}
				r.Workflows = append(r.Workflows, out)
			}
		}
	}
	r.Rerun = rerun(o)
	if asked.Attempts {
		r.Attempts = attempts(o, urls)
	}
	if asked.Artifacts {
		r.Artifacts = artifacts(o, "")
	}
	return r
}

// Invalid is the outputs of a run refused for bad input: nothing was sent.
func Invalid(err error) Result {
	return Result{Status: StatusBadInput, Workflows: []WorkflowOut{}, ExitCode: exit.BadInput,
		Error: strings.Join(strings.Split(err.Error(), "\n"), "; ")}
}

// StatusBadInput is the status of a run refused for bad input.
const StatusBadInput = "bad-input"

// Summarize builds the outputs. A fan-out has its targets under results,
// each with its exit code, and at the top the most severe exit code, with
// the status and error of the first target that has it.
func Summarize(outs []fanout.Outcome, urls circleci.WebURLs, asked Asked) Result {
	if !asked.Fanout {
		return result(outs[0], urls, asked)
	}
	top := Result{Workflows: []WorkflowOut{}, Results: &[]Result{}, ExitCode: Worst(outs)}
	if len(outs) == 0 {
		top.Status = StatusNoTargets
	}
	if asked.Artifacts {
		top.Artifacts = &[]ArtifactOut{}
	}
	for _, o := range outs {
		r := result(o, urls, asked)
		r.ProjectSlug, r.Branch, r.Tag = o.Request.Slug.String(), o.Request.Branch, o.Request.Tag
		*top.Results = append(*top.Results, r)
		if top.Artifacts != nil {
			*top.Artifacts = append(*top.Artifacts, *artifacts(o, o.Label)...)
		}
		if o.Code == top.ExitCode && top.Status == "" {
			top.Status, top.Error = r.Status, r.Error
		}
	}
	return top
}

// StatusNoTargets is the status of a shard of a fan-out that got no
// target: there are more shards than targets.
const StatusNoTargets = "no-targets"

// Worst is the process's exit code for a run's outcomes.
func Worst(outs []fanout.Outcome) exit.Code {
	codes := make([]exit.Code, len(outs))
	for i, o := range outs {
		codes[i] = o.Code
	}
	return exit.Worst(codes...)
}

// Outputs are the GitHub Action outputs, as strings.
func (r Result) Outputs() [][2]string {
	wf := compact(r.Workflows)
	number := ""
	if r.Number != nil {
		number = strconv.FormatInt(*r.Number, 10)
	}
	out := [][2]string{
		{"id", r.ID}, {"number", number}, {"state", r.State}, {"created_at", r.CreatedAt},
		{"url", r.URL}, {"status", r.Status}, {"workflows", wf},
	}
	if r.Results != nil {
		out = append(out, [2]string{"results", compact(*r.Results)})
	}
	if r.Artifacts != nil {
		out = append(out, [2]string{"artifacts", compact(*r.Artifacts)})
	}
	return out
}

// JSON is r as --json prints it: indented, with <, > and & as they are
// (messages quote them).
func (r Result) JSON() string {
	return encode(r, "  ")
}

func compact(v any) string { return encode(v, "") }

func encode(v any, indent string) string {
	var b strings.Builder
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", indent)
	if err := e.Encode(v); err != nil {
		panic(err) // outputs are plain data
	}
	return strings.TrimSuffix(b.String(), "\n")
}
