// Package rerun reruns a workflow of an existing pipeline, instead of
// triggering a new pipeline: all of it, its failed jobs, or chosen jobs
// (with the jobs that depend on them). Names are checked before anything
// is sent. To wait for the new workflow, pass Result.Pipeline to wait.Wait
// with Options.Only set to its name and Options.Await to its id.
package rerun

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/trigger"
)

// Request says which workflow to rerun, and how.
type Request struct {
	// Workflow is a workflow id, or the name of a workflow of the newest
	// pipeline of Slug on Branch (the project's pipelines on any branch
	// when Branch is empty).
	Workflow string
	Slug     circleci.Slug
	Branch   string
	Jobs     []string // names of the jobs to rerun (sparse_tree); nil: the whole workflow
	Failed   bool     // rerun the failed jobs (from_failed)
}

// Result is a rerun: the workflow rerun, its pipeline, and the new workflow.
type Result struct {
	Pipeline circleci.Pipeline
	Workflow circleci.Workflow // the workflow rerun
	NewID    string            // the new workflow's id
}

// NameError is a name the pipeline or workflow does not have: nothing
// was rerun.
type NameError struct {
	What   string // "workflow" or "job"
	Where  string // e.g. "pipeline #12 of gh/acme/api on branch main"
	Names  []string
	Theirs []string // the names it has
}

func (e *NameError) Error() string {
	return fmt.Sprintf("%s has no %s %s; its %ss: %s (nothing was rerun)", e.Where, e.What, strings.Join(e.Names, ", "), e.What, strings.Join(e.Theirs, ", "))
}

// ErrNoPipeline tells that the project has no pipeline on the branch to
// look the workflow up in.
var ErrNoPipeline = errors.New("no pipeline")

// Rerun finds the workflow (and, for Jobs, its jobs), then asks CircleCI
// to rerun it. A name that does not exist is a *NameError, and nothing is
// sent.
func Rerun(ctx context.Context, c *circleci.Client, r Request) (Result, error) {
	var res Result
	var err error
	if trigger.IsUUID(r.Workflow) {
		if res.Workflow, err = c.Workflow(ctx, r.Workflow); err != nil {
			return res, fmt.Errorf("read workflow %s: %w", r.Workflow, err)
		}
		if res.Pipeline, err = c.Pipeline(ctx, res.Workflow.PipelineID); err != nil {
			return res, fmt.Errorf("read the pipeline of workflow %s: %w", res.Workflow.Name, err)
		}
	} else if res.Pipeline, res.Workflow, err = byName(ctx, c, r); err != nil {
		return res, err
	}
	body := circleci.Rerun{FromFailed: r.Failed}
	if len(r.Jobs) > 0 {
		if body.Jobs, err = jobIDs(ctx, c, res, r.Jobs); err != nil {
			return res, err
		}
		body.SparseTree = true
	}
	if res.NewID, err = c.RerunWorkflow(ctx, res.Workflow.ID, body); err != nil {
		return res, fmt.Errorf("rerun workflow %s of pipeline #%d: %w", res.Workflow.Name, res.Pipeline.Number, err)
	}
	return res, nil
}

// jobIDs are the ids of the named jobs of the workflow.
func jobIDs(ctx context.Context, c *circleci.Client, res Result, names []string) ([]string, error) {
	jobs, err := c.Jobs(ctx, res.Workflow.ID)
	if err != nil {
		return nil, fmt.Errorf("list the jobs of workflow %s: %w", res.Workflow.Name, err)
	}
	var ids, missing, theirs []string
	for _, name := range names {
		i := slices.IndexFunc(jobs, func(j circleci.Job) bool { return j.Name == name })
		if i < 0 {
			missing = append(missing, name)
			continue
		}
		ids = append(ids, jobs[i].ID)
	}
	if len(missing) > 0 {
		for _, j := range jobs {
			theirs = append(theirs, j.Name)
		}
		return nil, &NameError{What: "job", Where: fmt.Sprintf("workflow %s of pipeline #%d", res.Workflow.Name, res.Pipeline.Number), Names: missing, Theirs: theirs}
	}
	return ids, nil
}

// byName finds the newest workflow of a name in the newest pipeline of a
// project on a branch.
func byName(ctx context.Context, c *circleci.Client, r Request) (circleci.Pipeline, circleci.Workflow, error) {
	on := "on any branch"
	if r.Branch != "" {
		on = "on branch " + r.Branch
	}
	p, ok, err := c.NewestPipeline(ctx, r.Slug, r.Branch)
	switch {
	case err != nil:
		return p, circleci.Workflow{}, fmt.Errorf("find the newest pipeline of %s %s: %w", r.Slug, on, err)
	case !ok:
		return p, circleci.Workflow{}, fmt.Errorf("%s has %w %s: nothing to rerun", r.Slug, ErrNoPipeline, on)
	}
	wfs, err := c.Workflows(ctx, p.ID)
	if err != nil {
		return p, circleci.Workflow{}, fmt.Errorf("list the workflows of pipeline #%d of %s: %w", p.Number, r.Slug, err)
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
		return p, circleci.Workflow{}, &NameError{What: "workflow", Where: fmt.Sprintf("pipeline #%d of %s %s", p.Number, r.Slug, on), Names: []string{r.Workflow}, Theirs: names}
	}
	return p, *found, nil
}
