package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/exit"
	"github.com/circleci-trigger/circleci-trigger/trigger"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

// More are the options of reruns and of what is read after a wait.
type More struct {
	// RetryFailed reruns the failed workflows from failed and waits again,
	// up to this many times, when a wait ends failed.
	RetryFailed int
	// Artifacts lists the artifacts of every job after the wait.
	Artifacts bool
	// AllJobs lists the jobs of every workflow after the wait (for a chart).
	AllJobs bool
	// Retrying is called before each retry with the workflows it reruns.
	Retrying func(oc Outcome, workflows []string)
}

// MaxTests is how many failed tests are kept per job.
const MaxTests = 10

// Details are what a run learns besides the wait's result.
type Details struct {
	// Attempts are the waits of a run with retries, the last one last;
	// nil when there was a single wait.
	Attempts []Attempt
	// Tests are the failed tests of the failed jobs, by job id.
	Tests map[string]FailedTests
	// Jobs are every job of every workflow, by workflow id (AllJobs).
	Jobs map[string][]circleci.Job
	// Artifacts of every job, in the order of the workflows (nil: not asked).
	Artifacts []JobArtifact
	// Rerun is set when the run reran a workflow instead of triggering.
	Rerun *Rerun
}

// Attempt is one wait of a run with retries.
type Attempt struct {
	Status    string
	Workflows []circleci.Workflow
	Reran     []string // the workflows rerun after it, from failed
}

// FailedTests are the first MaxTests failed tests of a job, and how many
// more there were.
type FailedTests struct {
	Tests []circleci.Test
	More  int
}

// JobArtifact is an artifact with the workflow and job it comes from.
type JobArtifact struct {
	Workflow, Job string
	circleci.Artifact
}

// Rerun is a rerun of a workflow: what was asked, and the new workflow.
type Rerun struct {
	Workflow circleci.Workflow // the workflow rerun
	Jobs     []string          // the job names rerun; nil: the whole workflow or, with Failed, the failed ones
	Failed   bool
	NewID    string // the new workflow
}

// follow waits, retries failed workflows as asked, and reads the details.
func (oc *Outcome) follow(ctx context.Context, c *circleci.Client, wo wait.Options, o Options, deadline time.Time) {
	left := func(wo wait.Options) wait.Options {
		if o.WaitOpts.Timeout > 0 {
			wo.Timeout = max(deadline.Sub(c.Now()), time.Nanosecond)
		}
		return wo
	}
	failFast := wo.FailFast
	// A retry's wait sees the workflows of the one before again: only
	// changes are shown.
	seen, progress := map[string]string{}, o.Progress
	o.Progress = func(label string, ev wait.Event) {
		if id := ev.Workflow.ID; id != "" {
			if seen[id] == ev.Workflow.Status {
				return
			}
			seen[id] = ev.Workflow.Status
		}
		progress(label, ev)
	}
	for attempt := 0; ; attempt++ {
		// A rerun from failed needs the failed workflows to have ended: with
		// retries left, fail-fast waits for that.
		wo.FailFast = failFast && attempt >= o.RetryFailed
		oc.Err = nil
		oc.waitFor(ctx, c, left(wo), o)
		if o.RetryFailed == 0 {
			break
		}
		oc.Attempts = append(oc.Attempts, Attempt{Status: oc.Wait.Status, Workflows: oc.Wait.Workflows})
		failed := retryable(oc)
		if attempt >= o.RetryFailed || len(failed) == 0 || ctx.Err() != nil {
			break
		}
		names := make([]string, len(failed))
		for i, w := range failed {
			names[i] = w.Name
		}
		oc.Attempts[attempt].Reran = names
		o.Retrying(*oc, names)
		var ids []string
		var errs []error
		for _, w := range failed {
			id, err := c.RerunWorkflow(ctx, w.ID, circleci.Rerun{FromFailed: true})
			if err != nil {
				errs = append(errs, fmt.Errorf("rerun workflow %s from failed: %w", w.Name, err))
				continue
			}
			ids = append(ids, id)
		}
		if len(errs) > 0 {
			oc.Err = fmt.Errorf("pipeline #%d of %s: %w", oc.Pipeline.Number, oc.Label, errors.Join(errs...))
			break
		}
		awaitListed(ctx, c, oc.Pipeline.ID, ids, wo.PollInterval, deadline)
	}
	oc.details(ctx, c, o)
}

// retryable are the workflows a retry reruns: those that failed, when the
// wait ended because the downstream failed.
func retryable(oc *Outcome) []circleci.Workflow {
	var de *wait.DownstreamError
	if oc.Wait == nil || !errors.As(oc.Err, &de) || de.Status != wait.StatusFailed {
		return nil
	}
	var out []circleci.Workflow
	for _, w := range oc.Wait.Workflows {
		if (w.Status == "failed" || w.Status == "error") && w.Tag != "setup" {
			out = append(out, w)
		}
	}
	return out
}

// awaitListed polls the pipeline's workflows until those of ids are
// listed, for at most a minute: a wait that started before would take the
// workflow it reruns for the newest of its name.
func awaitListed(ctx context.Context, c *circleci.Client, pipelineID string, ids []string, every time.Duration, deadline time.Time) {
	if len(ids) == 0 {
		return
	}
	every = max(every, time.Second)
	end := c.Now().Add(time.Minute)
	if deadline.Before(end) {
		end = deadline
	}
	for {
		wfs, err := c.Workflows(ctx, pipelineID)
		if err == nil && !slices.ContainsFunc(ids, func(id string) bool {
			return !slices.ContainsFunc(wfs, func(w circleci.Workflow) bool { return w.ID == id })
		}) {
			return
		}
		if !c.Now().Add(every).Before(end) || c.Sleep(ctx, every) != nil {
			return
		}
	}
}

// details reads, best effort, the failed tests of the failed jobs, and as
// asked every job and the artifacts. The verdict does not depend on them.
func (oc *Outcome) details(ctx context.Context, c *circleci.Client, o Options) {
	res := oc.Wait
	if res == nil || oc.Pipeline.ID == "" || ctx.Err() != nil {
		return
	}
	ctx = circleci.WithDeadline(ctx, c.Now().Add(time.Minute))
	logf := func(f string, a ...any) { o.Logf(oc.Label, f, a...) }
	slug := func(w circleci.Workflow) string {
		return firstOf(w.ProjectSlug, oc.Pipeline.ProjectSlug, oc.Request.Slug.Short().String())
	}
	for _, w := range res.Workflows {
		switch w.Status {
		case "failed", "failing", "error":
		default:
			continue
		}
		for _, j := range res.Jobs[w.ID] {
			if j.Number == 0 || j.Status == "on_hold" {
				continue
			}
			tests, err := c.Tests(ctx, slug(w), j.Number)
			if err != nil {
				logf("could not read the tests of job %s: %v", j.Name, err)
				continue
			}
			tests = slices.DeleteFunc(tests, func(t circleci.Test) bool { return !t.Failed() })
			if len(tests) == 0 {
				continue
			}
			if oc.Tests == nil {
				oc.Tests = map[string]FailedTests{}
			}
			ft := FailedTests{Tests: tests[:min(len(tests), MaxTests)], More: max(len(tests)-MaxTests, 0)}
			oc.Tests[j.ID] = ft
		}
	}
	if !o.AllJobs && !o.Artifacts {
		return
	}
	oc.Jobs = map[string][]circleci.Job{}
	for _, w := range res.Workflows {
		jobs, err := c.Jobs(ctx, w.ID)
		if err != nil {
			logf("could not list the jobs of workflow %s: %v", w.Name, err)
			continue
		}
		oc.Jobs[w.ID] = jobs
	}
	if !o.Artifacts {
		return
	}
	oc.Artifacts = []JobArtifact{}
	for _, w := range res.Workflows {
		for _, j := range oc.Jobs[w.ID] {
			if j.Number == 0 {
				continue
			}
			arts, err := c.Artifacts(ctx, slug(w), j.Number)
			if err != nil {
				logf("could not list the artifacts of job %s: %v", j.Name, err)
				continue
			}
			for _, a := range arts {
				oc.Artifacts = append(oc.Artifacts, JobArtifact{Workflow: w.Name, Job: j.Name, Artifact: a})
			}
		}
	}
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// RerunRequest asks to rerun a workflow instead of triggering a pipeline.
type RerunRequest struct {
	// Workflow is a workflow id, or the name of a workflow of the newest
	// pipeline of Slug on Branch (the project's pipelines on any branch
	// when empty).
	Workflow string
	Slug     circleci.Slug
	Branch   string
	Jobs     []string // job names to rerun (sparse_tree); nil: the whole workflow
	Failed   bool     // rerun from failed
}

// RerunWorkflow reruns a workflow and, with Wait, waits for the new one
// (and retries it as asked). Names that do not exist are refused with
// exit.BadInput before anything is sent.
func RerunWorkflow(ctx context.Context, c *circleci.Client, r RerunRequest, o Options) Outcome {
	o.defaults()
	oc := Outcome{Label: r.Slug.String(), Request: trigger.Request{Slug: r.Slug, Branch: r.Branch}}
	deadline := c.Now().Add(o.WaitOpts.Timeout)
	ctx = circleci.WithDeadline(ctx, deadline)
	rr, err := oc.rerun(ctx, c, r)
	oc.Rerun = rr
	switch {
	case err != nil:
		oc.Err = err
	default:
		o.Triggered(oc)
		if o.Wait {
			wo := o.WaitOpts
			wo.Only = []string{rr.Workflow.Name}
			awaitListed(ctx, c, oc.Pipeline.ID, []string{rr.NewID}, wo.PollInterval, deadline)
			oc.follow(ctx, c, wo, o, deadline)
		}
	}
	if oc.Pipeline.ProjectSlug != "" {
		oc.Label = oc.Pipeline.ProjectSlug
	}
	oc.Code = exit.Of(oc.Err)
	return oc
}

// rerun finds the workflow and its jobs, then sends the rerun.
func (oc *Outcome) rerun(ctx context.Context, c *circleci.Client, r RerunRequest) (*Rerun, error) {
	rr := &Rerun{Jobs: r.Jobs, Failed: r.Failed}
	var err error
	if trigger.IsUUID(r.Workflow) {
		if rr.Workflow, err = c.Workflow(ctx, r.Workflow); err != nil {
			return nil, fmt.Errorf("read workflow %s: %w", r.Workflow, err)
		}
		if oc.Pipeline, err = c.Pipeline(ctx, rr.Workflow.PipelineID); err != nil {
			return nil, fmt.Errorf("read the pipeline of workflow %s: %w", rr.Workflow.Name, err)
		}
	} else {
		if rr.Workflow, err = oc.byName(ctx, c, r); err != nil {
			return nil, err
		}
	}
	body := circleci.Rerun{FromFailed: r.Failed}
	if len(r.Jobs) > 0 {
		jobs, err := c.Jobs(ctx, rr.Workflow.ID)
		if err != nil {
			return nil, fmt.Errorf("list the jobs of workflow %s: %w", rr.Workflow.Name, err)
		}
		var missing, names []string
		for _, name := range r.Jobs {
			i := slices.IndexFunc(jobs, func(j circleci.Job) bool { return j.Name == name })
			if i < 0 {
				missing = append(missing, name)
				continue
			}
			body.Jobs = append(body.Jobs, jobs[i].ID)
		}
		if len(missing) > 0 {
			for _, j := range jobs {
				names = append(names, j.Name)
			}
			return nil, &exit.Error{Code: exit.BadInput, Err: fmt.Errorf("workflow %s of pipeline #%d has no job %s; its jobs: %s (nothing was rerun)",
				rr.Workflow.Name, oc.Pipeline.Number, strings.Join(missing, ", "), strings.Join(names, ", "))}
		}
		body.SparseTree = true
	}
	if rr.NewID, err = c.RerunWorkflow(ctx, rr.Workflow.ID, body); err != nil {
		return nil, fmt.Errorf("rerun workflow %s of pipeline #%d: %w", rr.Workflow.Name, oc.Pipeline.Number, err)
	}
	return rr, nil
}

// byName finds the newest workflow of a name in the newest pipeline of a
// project on a branch.
func (oc *Outcome) byName(ctx context.Context, c *circleci.Client, r RerunRequest) (circleci.Workflow, error) {
	on := "on any branch"
	if r.Branch != "" {
		on = "on branch " + r.Branch
	}
	p, ok, err := c.NewestPipeline(ctx, r.Slug, r.Branch)
	switch {
	case err != nil:
		return circleci.Workflow{}, fmt.Errorf("find the newest pipeline of %s %s: %w", r.Slug, on, err)
	case !ok:
		return circleci.Workflow{}, &exit.Error{Code: exit.NotFound, Err: fmt.Errorf("%s has no pipeline %s: nothing to rerun", r.Slug, on)}
	}
	oc.Pipeline = p
	wfs, err := c.Workflows(ctx, p.ID)
	if err != nil {
		return circleci.Workflow{}, fmt.Errorf("list the workflows of pipeline #%d of %s: %w", p.Number, r.Slug, err)
	}
	var found *circleci.Workflow
	var names []string
	for i, w := range wfs {
		if !slices.Contains(names, w.Name) {
			names = append(names, w.Name)
		}
		if w.Name == r.Workflow && (found == nil || w.CreatedAt.After(found.CreatedAt)) {
			found = &wfs[i]
		}
	}
	if found == nil {
		slices.Sort(names)
		return circleci.Workflow{}, &exit.Error{Code: exit.BadInput, Err: fmt.Errorf("pipeline #%d of %s %s has no workflow %s; its workflows: %s (nothing was rerun)",
			p.Number, r.Slug, on, r.Workflow, strings.Join(names, ", "))}
	}
	return *found, nil
}
