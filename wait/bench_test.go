package wait

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

// BenchmarkWaitSchedule measures, on simulated time with the default
// settings, what the README's performance targets ask of a wait: the lag from the last workflow's
// end to the end of the wait, and the requests per pipeline-minute. Each
// reported value is the median over the iterations.
func BenchmarkWaitSchedule(b *testing.B) {
	for _, d := range []time.Duration{20 * time.Second, 5 * time.Minute, 30 * time.Minute} {
		b.Run(d.String(), func(b *testing.B) {
			var lags, rates, steady []float64
			for b.Loop() {
				s, c, p, clk := setup(b, scenario(fmt.Sprintf(`{"name":"build","duration":%q},{"name":"lint","duration":"10s"}`, d)))
				start := clk.Now()
				// Default settings, but for a timeout long enough for the longest.
				if _, err := Wait(context.Background(), c, p, Options{Timeout: d + 10*time.Minute}); err != nil {
					b.Fatal(err)
				}
				// The simulator's timeline: created after 300ms, listed 200ms later.
				end := p.CreatedAt.Add(500*time.Millisecond + d)
				lags = append(lags, clk.Now().Sub(end).Seconds())
				minutes := clk.Now().Sub(start).Minutes()
				rates = append(rates, float64(len(s.Requests())-1)/minutes)
				if d >= 30*time.Minute { // the last 10 minutes of a long wait
					total, n := clk.Now().Sub(start), 0
					for _, r := range s.Requests() {
						if r.At >= total-10*time.Minute {
							n++
						}
					}
					steady = append(steady, float64(n)/10)
				}
			}
			if len(steady) > 0 {
				b.ReportMetric(simtest.Median(steady), "req/min-last10m")
			}
			b.ReportMetric(simtest.Median(lags), "lag-s")
			b.ReportMetric(simtest.Median(rates), "req/pipeline-min")
		})
	}
}
