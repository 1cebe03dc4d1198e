package circleci

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// Durations are what CircleCI's insights tell of a workflow's past
// durations (duration_metrics, over the reporting window).
type Durations struct {
	Runs                    int // successful runs the metrics cover
	Min, Median, P95, Max   time.Duration
	Mean, StandardDeviation time.Duration
}

// WorkflowDurations reads GET /insights/{slug}/workflows: the duration
// metrics of every workflow of a project that ran in the last 90 days, on
// branch (the project's default branch when empty). One request, one page:
// the workflows a pipeline runs are among the first a project lists in
// practice, and a workflow missing from it is merely unpredicted.
// Insights are refused (4xx) on plans and servers without them.
func (c *Client) WorkflowDurations(ctx context.Context, slug Slug, branch string) (map[string]Durations, error) {
	return durations(ctx, c, "/insights/"+slug.Short().String()+"/workflows", branch)
}

// JobDurations reads GET /insights/{slug}/workflows/{name}/jobs: the
// duration metrics of each job of a workflow, on branch (the project's
// default branch when empty). One request, one page, as WorkflowDurations.
func (c *Client) JobDurations(ctx context.Context, slug Slug, workflow, branch string) (map[string]Durations, error) {
	return durations(ctx, c, "/insights/"+slug.Short().String()+"/workflows/"+url.PathEscape(workflow)+"/jobs", branch)
}

// durations reads the first page of a list of insights metrics of the
// last 90 days on branch (the default branch when empty), by name.
func durations(ctx context.Context, c *Client, path, branch string) (map[string]Durations, error) {
	q := url.Values{"reporting-window": {"last-90-days"}}
	if branch != "" {
		q.Set("branch", branch)
	}
	p, err := getAs(ctx, c, path, q, parsePage)
	if err != nil {
		return nil, err
	}
	out := map[string]Durations{}
	sec := func(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }
	for _, it := range p.Items {
		name, m := it.Get("name").String(), it.Get("metrics")
		d := m.Get("duration_metrics")
		if name == "" || !d.Get("median").Exists() {
			continue
		}
		out[name] = Durations{
			Runs: int(m.Get("successful_runs").Int()),
			Min:  sec(d.Get("min").Float()), Median: sec(d.Get("median").Float()), P95: sec(d.Get("p95").Float()),
			Max: sec(d.Get("max").Float()), Mean: sec(d.Get("mean").Float()), StandardDeviation: sec(d.Get("standard_deviation").Float()),
		}
	}
	if len(out) == 0 && len(p.Items) > 0 {
		return nil, c.redact(&DecodeError{Method: http.MethodGet, Path: path, Err: errors.New("no duration_metrics")})
	}
	return out, nil
}
