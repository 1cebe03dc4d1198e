package wait

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkWaitSchedule measures, on simulated time with the default
// settings, what SPEC §7 asks of a wait: the lag from the last workflow's
// end to the end of the wait, and the requests per pipeline-minute. Each
// reported value is the median over the iterations.
func BenchmarkWaitSchedule(b *testing.B) {
	for _, d := range []time.Duration{20 * time.Second, 5 * time.Minute, 30 * time.Minute} {
		b.Run(d.String(), func(b *testing.B) {
			var lags, rates []float64
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
			}
			b.ReportMetric(median(lags), "lag-s")
			b.ReportMetric(median(rates), "req/pipeline-min")
		})
	}
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}
