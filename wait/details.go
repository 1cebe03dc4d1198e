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
	r := reader{c: c, res: res, logf: o.Logf}
	d.Tests = r.failedTests(ctx)
	if o.AllJobs || o.Artifacts {
		d.Jobs = r.allJobs(ctx)
	}
	if o.Artifacts {
		d.Artifacts = r.artifacts(ctx, d.Jobs)
	}
	return d
}

// reader reads the details of a wait's result.
type reader struct {
	c    *circleci.Client
	res  Result
	logf func(string, ...any)
}

// slug is the project of a workflow, for the endpoints of its jobs.
func (r reader) slug(w circleci.Workflow) string {
	return firstOf(w.ProjectSlug, r.res.Pipeline.ProjectSlug)
}

// failedTests reads the tests of each failed job of a failed workflow.
func (r reader) failedTests(ctx context.Context) map[string]FailedTests {
	var out map[string]FailedTests
	for _, w := range r.res.Workflows {
		switch w.Status {
		case "failed", "failing", "error":
		default:
			continue
		}
		for _, j := range r.res.Jobs[w.ID] {
			if !j.HasPage() || !failedJob(j.Status) {
				continue
			}
			tests, err := r.c.Tests(ctx, r.slug(w), j.Number)
			if err != nil {
				r.logf("could not read the tests of job %s: %v", j.Name, err)
				continue
			}
			tests = slices.DeleteFunc(tests, func(t circleci.Test) bool { return !t.Failed() })
			if len(tests) == 0 {
				continue
			}
			if out == nil {
				out = map[string]FailedTests{}
			}
			out[j.ID] = FailedTests{Tests: tests[:min(len(tests), MaxTests)], More: max(len(tests)-MaxTests, 0)}
		}
	}
	return out
}

// allJobs lists the jobs of every workflow that the wait did not list.
func (r reader) allJobs(ctx context.Context) map[string][]circleci.Job {
	out := map[string][]circleci.Job{}
	for _, w := range r.res.Workflows {
		jobs, ok := r.res.listed[w.ID]
		if !ok {
			var err error
			if jobs, err = r.c.Jobs(ctx, w.ID); err != nil {
				r.logf("could not list the jobs of workflow %s: %v", w.Name, err)
				continue
			}
		}
		out[w.ID] = jobs
	}
	return out
}

// artifacts lists the artifacts of every job.
func (r reader) artifacts(ctx context.Context, jobs map[string][]circleci.Job) []JobArtifact {
	out := []JobArtifact{}
	for _, w := range r.res.Workflows {
		for _, j := range jobs[w.ID] {
			if !j.HasPage() {
				continue
			}
			arts, err := r.c.Artifacts(ctx, r.slug(w), j.Number)
			if err != nil {
				r.logf("could not list the artifacts of job %s: %v", j.Name, err)
				continue
			}
			for _, a := range arts {
				out = append(out, JobArtifact{Workflow: w.Name, Job: j.Name, Artifact: a})
			}
		}
	}
	return out
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
