package wait

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// pipelinesPerRun is how many pipelines (seeds) each schedule waits for
// in one iteration: the same pipelines for every schedule.
const pipelinesPerRun = 200

// shapes of pipeline in the benchmark: a build workflow of the given
// median and a lint workflow of a quarter of it; each run drawn around its
// median with e^N(0, spread), as is the insights' history of 50 runs.
var shapes = []struct {
	name   string
	spread float64
	jobs   []float64 // the build's jobs, in a chain, as shares of its median; none: one job
}{
	{"one-job-5%", 0.05, nil},
	{"three-jobs-10%", 0.10, []float64{0.15, 0.65, 0.20}},
}

// schedules compared by BenchmarkPredictedWait; fixed10s first, the
// others' requests are also given as a ratio of its.
var schedules = []struct {
	name    string
	hooks   hooks
	refused bool // insights answer 404
}{
	{name: "fixed10s", hooks: hooks{schedule: func(int) time.Duration { return 10 * time.Second }}},
	{name: "backoff", hooks: hooks{noInsights: true}},
	{name: "run-watch", hooks: hooks{schedule: func(n int) time.Duration { return min(time.Duration(n+1)*5*time.Second, 30*time.Second) }}},
	{name: "predicted-before", hooks: hooks{noJobs: true, next: nextBefore}},
	{name: "predicted"},
	{name: "no-history", refused: true},
}

// BenchmarkPredictedWait compares, on simulated time and the same
// simulated pipelines, the lag from the end of a pipeline's last workflow
// to the end of the wait (median and p90) and the requests per pipeline
// (the trigger aside, insights included) of: a fixed 10s poller, the
// backoff without history, circleci-cli's run watch (5s, growing by 5s to
// 30s), the wait that followed insights before it used jobs (3rd to 95th
// percentile, grid anchored at the 95th), the wait that follows insights
// and jobs today, and the same wait when insights are refused.
func BenchmarkPredictedWait(b *testing.B) {
	for _, sh := range shapes {
		for _, d := range []time.Duration{20 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute} {
			fixed := 0.0
			for _, sc := range schedules {
				b.Run(fmt.Sprintf("%s/%s/%s", sh.name, d, sc.name), func(b *testing.B) {
					var lags, reqs []float64
					for b.Loop() {
						lags, reqs = lags[:0], reqs[:0]
						for seed := range pipelinesPerRun {
							lag, n := predictOne(b, d, sh.spread, sh.jobs, seed+1, sc.hooks, sc.refused)
							lags = append(lags, lag)
							reqs = append(reqs, n)
						}
					}
					b.ReportMetric(quantile(lags, 0.5), "lag-p50-s")
					b.ReportMetric(quantile(lags, 0.9), "lag-p90-s")
					b.ReportMetric(mean(reqs), "req/pipeline")
					if sc.name == "fixed10s" {
						fixed = mean(reqs)
					} else if fixed > 0 {
						b.ReportMetric(mean(reqs)/fixed, "x-fixed10s")
					}
				})
			}
		}
	}
}

func predictOne(b *testing.B, d time.Duration, spread float64, shares []float64, seed int, h hooks, refused bool) (lag, requests float64) {
	extra := fmt.Sprintf(`,"seed":%d`, seed)
	if refused {
		extra += `,"insights_status":404`
	}
	build := fmt.Sprintf(`{"name":"build","duration":%q,"spread":%g}`, d, spread)
	if shares != nil {
		var jobs []string
		for i, sh := range shares {
			req := ""
			if i > 0 {
				req = fmt.Sprintf(`,"requires":["j%d"]`, i-1)
			}
			jobs = append(jobs, fmt.Sprintf(`{"name":"j%d","status":"success","duration":%q%s}`, i, time.Duration(sh*float64(d)), req))
		}
		build = fmt.Sprintf(`{"name":"build","spread":%g,"jobs":[%s]}`, spread, strings.Join(jobs, ","))
	}
	wfs := fmt.Sprintf(`%s,{"name":"lint","duration":%q,"spread":%g}`, build, d/4, spread)
	sc := fmt.Sprintf(`{"tokens":[%q],"projects":[{"slug":"gh/acme/p","insights":{"runs":50},"pipeline":{"workflows":[%s]}}]%s}`, token, wfs, extra)
	s, c, p, clk := setup(b, sc)
	o := Options{Timeout: d + 10*time.Minute}
	o.Project, _ = circleci.ParseSlug("gh/acme/p") // as the command does
	if _, err := wait(context.Background(), c, p, o, h); err != nil {
		b.Fatal(err)
	}
	end, ok := s.Ended(p.ID)
	if !ok {
		b.Fatal("the wait ended before the pipeline")
	}
	return clk.Now().Sub(end).Seconds(), float64(len(s.Requests()) - 1)
}

// nextBefore is forecast.next as it was before the wait followed jobs:
// every maxGap from the start until lo, then a grid of about step that
// ends at hi (a single poll at hi when the forecast is narrow), then
// backing off.
func nextBefore(f forecast, elapsed, step, maxGap time.Duration) time.Duration {
	n := max(1, (f.hi-f.lo+step/2)/step) // points of the grid
	gap := (f.hi - f.lo) / n
	var d time.Duration
	switch {
	case elapsed < f.hi-(n-1)*gap-gap/3:
		d = f.hi - (n-1)*gap - elapsed
	case elapsed < f.hi:
		k := (f.hi - elapsed) / gap
		d = f.hi - k*gap - elapsed
	default:
		d = max((elapsed-f.hi)/2, step)
	}
	if d < gap/3 && elapsed < f.hi {
		d += gap
	}
	return min(max(d, 100*time.Millisecond), maxGap)
}

func quantile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(int(q*float64(len(s))), len(s)-1)]
}

func mean(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t / float64(len(v))
}
