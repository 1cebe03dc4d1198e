package wait

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"

	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

// spread is the workflows' spread in the benchmark: each run lasts its
// median times e^N(0, spread), and the insights' history is drawn alike.
const spread = 0.05

// pipelinesPerRun is how many pipelines (seeds) each schedule waits for
// in one iteration: the same pipelines for every schedule.
const pipelinesPerRun = 200

// schedules compared by BenchmarkPredictedWait.
var schedules = []struct {
	name    string
	hooks   hooks
	refused bool // insights answer 404
}{
	{name: "today", hooks: hooks{noInsights: true}},
	{name: "fixed10s", hooks: hooks{schedule: func(int) time.Duration { return 10 * time.Second }}},
	{name: "run-watch", hooks: hooks{schedule: func(n int) time.Duration { return min(time.Duration(n+1)*5*time.Second, 30*time.Second) }}},
	{name: "predicted"},
	{name: "no-history", refused: true},
}

// BenchmarkPredictedWait compares, on simulated time and the same
// simulated pipelines, the lag from the end of a pipeline's last workflow
// to the end of the wait (median and p90) and the requests per pipeline
// (the trigger aside, insights included) of: today's backoff, a fixed 10s
// poller, circleci-cli's run watch (5s, growing by 5s to 30s), the wait
// that follows insights, and the same wait when insights are refused.
// Pipelines: a workflow of 20s, 2m, 10m or 30m (median) and a lint
// workflow of a quarter of it, both with a 5% spread.
func BenchmarkPredictedWait(b *testing.B) {
	for _, d := range []time.Duration{20 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute} {
		for _, sc := range schedules {
			b.Run(fmt.Sprintf("%s/%s", d, sc.name), func(b *testing.B) {
				var lags, reqs []float64
				for b.Loop() {
					lags, reqs = lags[:0], reqs[:0]
					for seed := range pipelinesPerRun {
						lag, n := predictOne(b, d, seed+1, sc.hooks, sc.refused)
						lags = append(lags, lag)
						reqs = append(reqs, n)
					}
				}
				b.ReportMetric(quantile(lags, 0.5), "lag-p50-s")
				b.ReportMetric(quantile(lags, 0.9), "lag-p90-s")
				b.ReportMetric(mean(reqs), "req/pipeline")
			})
		}
	}
}

func predictOne(b *testing.B, d time.Duration, seed int, h hooks, refused bool) (lag, requests float64) {
	extra := fmt.Sprintf(`,"seed":%d`, seed)
	if refused {
		extra += `,"insights_status":404`
	}
	wfs := fmt.Sprintf(`{"name":"build","duration":%q,"spread":%g},{"name":"lint","duration":%q,"spread":%g}`, d, spread, d/4, spread)
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

var _ = simtest.Median
