package wait

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
)

func TestForecastFromInsights(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		d    circleci.Durations
		ok   bool
	}{
		{"history", circleci.Durations{Runs: 50, Median: 600 * time.Second, P95: 650 * time.Second}, true},
		{"stddev only", circleci.Durations{Runs: 50, Median: 600 * time.Second, P95: 600 * time.Second, StandardDeviation: 30 * time.Second}, true},
		{"too few runs", circleci.Durations{Runs: 2, Median: 600 * time.Second, P95: 650 * time.Second}, false},
		{"no median", circleci.Durations{Runs: 50}, false},
	} {
		f, ok := newForecast(tc.d)
		if ok != tc.ok {
			t.Errorf("%s: newForecast(%+v) ok = %v, want %v", tc.name, tc.d, ok, tc.ok)
			continue
		}
		if ok && !(f.lo < tc.d.Median && tc.d.Median < f.hi) {
			t.Errorf("%s: forecast %+v does not surround the median %s", tc.name, f, tc.d.Median)
		}
	}
}

func TestForecastNext(t *testing.T) {
	t.Parallel()
	const step, maxGap = 2500 * time.Millisecond, 30 * time.Second
	f := forecast{lo: 550 * time.Second, hi: 660 * time.Second}
	for _, tc := range []struct {
		name    string
		elapsed time.Duration
		want    time.Duration
	}{
		{"far: as sparse as max-poll-interval allows, evenly until the grid", 10 * time.Second, (552500*time.Millisecond - 10*time.Second) / 19},
		{"close to the window: lands on its first point, hi - 43 gaps of 2.5s", 540 * time.Second, 12500 * time.Millisecond},
		{"in the window: the next grid point", 600 * time.Second, 2500 * time.Millisecond},
		{"just after a grid point: the one after", 600*time.Second + 100*time.Millisecond, 2400 * time.Millisecond},
		{"late: from step", 661 * time.Second, step},
		{"very late: half the lateness", 700 * time.Second, 20 * time.Second},
		{"hours late: max-poll-interval", 3 * time.Hour, maxGap},
	} {
		if got := f.next(tc.elapsed, step, maxGap); got != tc.want {
			t.Errorf("%s: next(%s) = %s, want %s", tc.name, tc.elapsed, got, tc.want)
		}
	}
	// Far from the end, polls are as few as maxGap allows, evenly spaced,
	// and the last of them is the grid's first: the 547.5s from 5s in 19
	// gaps of 28.8s.
	var polls []time.Duration
	for e := 5 * time.Second; e < f.lo; {
		e += f.next(e, step, maxGap)
		polls = append(polls, e)
	}
	if first := 552500 * time.Millisecond; len(polls) != 19 || polls[len(polls)-1] != first {
		t.Errorf("far polls %v, want 19 ending at %s", polls, first)
	}
	// A narrow forecast: one poll, at hi.
	narrow := forecast{lo: 19 * time.Second, hi: 22 * time.Second}
	if got := narrow.next(0, step, maxGap); got != 22*time.Second {
		t.Errorf("narrow: next(0) = %s, want 22s", got)
	}
	// Sparse polls never exceed max-poll-interval, wherever the end is.
	for e := time.Duration(0); e < 2*time.Hour; e += 7 * time.Second {
		if d := f.next(e, step, maxGap); d <= 0 || d > maxGap {
			t.Fatalf("next(%s) = %s", e, d)
		}
	}
}

// From its jobs, a workflow ends when its last job does: a job that ended
// ended then, a running one its median after it started, a blocked one
// its median after those it waits for; the spread of that chain.
func TestJobsEnd(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	asOf := now.Add(-time.Hour) // the server's clock, an hour behind ours
	stats := map[string]spread{"setup": {time.Minute, 0.1}, "test": {10 * time.Minute, 0.1}, "deploy": {2 * time.Minute, 0.2}}
	job := func(name, status string, started, stopped time.Duration, deps ...string) circleci.Job {
		j := circleci.Job{ID: name + "-id", Name: name, Status: status, Dependencies: deps, AsOf: asOf}
		if started != 0 {
			j.StartedAt = asOf.Add(-started)
		}
		if stopped != 0 {
			j.StoppedAt = asOf.Add(-stopped)
		}
		return j
	}
	jobs := []circleci.Job{
		job("setup", "success", 5*time.Minute, 4*time.Minute),
		job("test", "running", 4*time.Minute, 0, "setup-id"),
		job("deploy", "blocked", 0, 0, "test-id"),
	}
	end, ok := jobsEnd(now, jobs, stats)
	// test started 4m ago: ends in 6m; deploy 2m later.
	if want := now.Add(8 * time.Minute); !ok || !end.mean.Equal(want) || math.Abs(end.sd-math.Hypot(60, 24)) > 1e-9 {
		t.Errorf("jobsEnd = %v ± %.1fs, %v; want %v ± %.1fs", end.mean, end.sd, ok, want, math.Hypot(60, 24))
	}
	// Late: test should have ended; it ends any moment, deploy after it.
	jobs[1] = job("test", "running", 15*time.Minute, 0, "setup-id")
	if end, ok := jobsEnd(now, jobs, stats); !ok || !end.mean.Equal(now.Add(2*time.Minute)) {
		t.Errorf("late: jobsEnd = %v, %v", end.mean, ok)
	}
	for _, tc := range []struct {
		name string
		jobs []circleci.Job
	}{
		{"a job failed", []circleci.Job{jobs[0], job("test", "failed", 4*time.Minute, time.Minute, "setup-id"), jobs[2]}},
		{"an approval waits", []circleci.Job{jobs[0], jobs[1], job("hold", "on_hold", 0, 0)}},
		{"a job without history", []circleci.Job{jobs[0], jobs[1], job("docs", "blocked", 0, 0, "test-id")}},
		{"every job ended", []circleci.Job{jobs[0]}},
	} {
		if _, ok := jobsEnd(now, tc.jobs, stats); ok {
			t.Errorf("%s: the jobs tell an end", tc.name)
		}
	}
}

// threeJobs is a pipeline whose build workflow (about 30 minutes, its own
// history wide) is timed by three jobs in a chain, beside a short lint.
const threeJobs = `{"tokens":["fake-token-wait"],"seed":5,"projects":[{"slug":"gh/acme/p","insights":{"runs":50},"pipeline":{"workflows":[
	{"name":"build","spread":0.1,"jobs":[{"name":"setup","duration":"4m30s"},{"name":"test","duration":"19m30s","requires":["setup"]},
	  {"name":"deploy","duration":"6m","requires":["test"]%s}]},
	{"name":"lint","duration":"2m","spread":0.1}]}}]}`

// Once a workflow whose history is wide runs alone, the wait reads its
// jobs instead of the pipeline's workflows: the same request tells when its
// last job started, and the polls gather around that job's end. The last
// poll reads the workflows: their status is the verdict.
func TestWaitFollowsTheJobsOfAWideWorkflow(t *testing.T) {
	t.Parallel()
	run := func(h hooks) (requests, jobReads int, lag time.Duration, s *circlecitest.Simulator) {
		s, c, p, clk := setup(t, fmt.Sprintf(threeJobs, ""))
		o := Options{Timeout: time.Hour}
		o.Project, _ = circleci.ParseSlug("gh/acme/p")
		res, err := wait(context.Background(), c, p, o, h)
		if err != nil || res.Status != StatusSuccess {
			t.Fatalf("wait = %s, %v", res.Status, err)
		}
		end, _ := s.Ended(p.ID)
		return len(s.Requests()), s.Count("GET", "/workflow/*/job"), clk.Now().Sub(end), s
	}
	n, jobReads, lag, s := run(hooks{})
	without, none, lagWithout, _ := run(hooks{noJobs: true})
	if q := s.Matching("GET", "/insights/gh/acme/p/workflows/build/jobs"); len(q) != 1 || none != 0 {
		t.Errorf("jobs' history asked %d times, jobs read %d times without jobs", len(q), none)
	}
	last := s.Requests()[len(s.Requests())-1]
	if jobReads < 5 || !strings.HasSuffix(last.Path, "/workflow") || last.Status != 200 {
		t.Errorf("%d reads of the jobs, the last request %s %s", jobReads, last.Method, last.Path)
	}
	// lint ends after about 2 minutes: until then, the workflows are read.
	for _, q := range s.Matching("GET", "/workflow/*/job") {
		if q.At < 2*time.Minute {
			t.Errorf("jobs read at %s, while lint ran", q.At)
		}
	}
	if n >= without*3/4 || lag > 3*time.Second {
		t.Errorf("%d requests, %s late; without the jobs %d, %s late", n, lag, without, lagWithout)
	}
}

// A job that fails while another still runs is seen by the next read of
// the jobs: the workflows are read at once, and fail-fast ends the wait.
func TestJobReadsSeeAFailure(t *testing.T) {
	t.Parallel()
	sc := strings.Replace(fmt.Sprintf(threeJobs, `,"status":"failed"`), `{"name":"deploy"`, `{"name":"docs","duration":"30m","requires":["setup"]},{"name":"deploy"`, 1)
	s, c, p, clk := setup(t, sc)
	o := Options{Timeout: 2 * time.Hour, FailFast: true, MaxPollInterval: 30 * time.Second}
	o.Project, _ = circleci.ParseSlug("gh/acme/p")
	res, err := wait(context.Background(), c, p, o, hooks{})
	if res.Status != StatusFailed || err == nil {
		t.Fatalf("wait = %s, %v; want failed", res.Status, err)
	}
	build := res.Workflows[slices.IndexFunc(res.Workflows, func(w circleci.Workflow) bool { return w.Name == "build" })]
	jobs, err := c.Jobs(context.Background(), build.ID)
	if err != nil {
		t.Fatal(err)
	}
	deploy := jobs[slices.IndexFunc(jobs, func(j circleci.Job) bool { return j.Name == "deploy" })]
	// The server's clock is the simulator's: whole seconds.
	if since := clk.Now().Sub(deploy.StoppedAt); deploy.Status != "failed" || since > o.MaxPollInterval+time.Second || build.Status != "failing" ||
		s.Count("GET", "/workflow/*/job") < 2 {
		t.Errorf("deploy %s; the wait ended %s after it failed, seeing build %s", deploy.Status, since, build.Status)
	}
}
