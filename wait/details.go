package wait

import (
	"context"
	"slices"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// MaxTests is how many failed tests Details keeps per job.
const MaxTests = 10

// DetailOptions say what Details reads besides the failed tests.
type DetailOptions struct {
	// AllJobs lists the jobs of every workflow (for a chart, say).
	AllJobs bool
	// Artifacts lists the artifacts of every job.
	Artifacts bool
	// Logf reports what could not be read; nil: silent.
	Logf func(format string, args ...any)
}

// Details are what a wait's result does not say by itself: why jobs
// failed, and what they made.
type Details struct {
	// Tests are the failed tests of the failed jobs, by job id.
	Tests map[string]FailedTests
	// Jobs are every job of every workflow, by workflow id (AllJobs or
	// Artifacts).
	Jobs map[string][]circleci.Job
	// Artifacts of every job, in the order of the workflows; nil when
	// not asked for.
	Artifacts []JobArtifact
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

// ReadDetails reads, best effort, the failed tests of the failed jobs of
// res, and as asked every job and the artifacts, within a minute: what
// cannot be read is left out, and logged. Approval jobs have neither tests
// nor artifacts and are not asked for them. The jobs the wait listed are
// not listed again.
func ReadDetails(ctx context.Context, c *circleci.Client, res Result, o DetailOptions) Details {
	var d Details
	if res.Pipeline.ID == "" || ctx.Err() != nil {
		return d
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	slug := func(w circleci.Workflow) string { return firstOf(w.ProjectSlug, res.Pipeline.ProjectSlug) }
	for _, w := range res.Workflows {
		switch w.Status {
		case "failed", "failing", "error":
		default:
			continue
		}
		for _, j := range res.Jobs[w.ID] {
			if j.Number == 0 || !failedJob(j.Status) {
				continue
			}
			tests, err := c.Tests(ctx, slug(w), j.Number)
			if err != nil {
				o.Logf("could not read the tests of job %s: %v", j.Name, err)
				continue
			}
			tests = slices.DeleteFunc(tests, func(t circleci.Test) bool { return !t.Failed() })
			if len(tests) == 0 {
				continue
			}
			if d.Tests == nil {
				d.Tests = map[string]FailedTests{}
			}
			d.Tests[j.ID] = FailedTests{Tests: tests[:min(len(tests), MaxTests)], More: max(len(tests)-MaxTests, 0)}
		}
	}
	if !o.AllJobs && !o.Artifacts {
		return d
	}
	d.Jobs = map[string][]circleci.Job{}
	for _, w := range res.Workflows {
		jobs, ok := res.listed[w.ID]
		if !ok {
			var err error
			if jobs, err = c.Jobs(ctx, w.ID); err != nil {
				o.Logf("could not list the jobs of workflow %s: %v", w.Name, err)
				continue
			}
		}
		d.Jobs[w.ID] = jobs
	}
	if !o.Artifacts {
		return d
	}
	d.Artifacts = []JobArtifact{}
	for _, w := range res.Workflows {
		for _, j := range d.Jobs[w.ID] {
			if j.Number == 0 {
				continue
			}
			arts, err := c.Artifacts(ctx, slug(w), j.Number)
			if err != nil {
				o.Logf("could not list the artifacts of job %s: %v", j.Name, err)
				continue
			}
			for _, a := range arts {
				d.Artifacts = append(d.Artifacts, JobArtifact{Workflow: w.Name, Job: j.Name, Artifact: a})
			}
		}
	}
	return d
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
