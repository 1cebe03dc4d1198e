package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

// BenchmarkFanoutScale: triggering 1, 50, 200 and 1000 projects (no
// wait) with the default concurrency of 50, against a simulator that takes
// 100ms per answer and announces a rate limit of 1000 requests a second in
// its headers; and 1000 again under a limit of 151 a second (the figure
// recorded on a trigger answer). It reports the process's wall time (the
// trigger phase), that time in round trips, the requests, the connections
// opened, the 429s and the peak memory.
func BenchmarkFanoutScale(b *testing.B) {
	for _, tc := range []struct {
		targets, limit int
	}{{1, 1000}, {50, 1000}, {200, 1000}, {1000, 1000}, {1000, 151}, {1000, 1000000}} {
		b.Run(fmt.Sprintf("%d/limit%d", tc.targets, tc.limit), func(b *testing.B) {
			sc := &circlecitest.Scenario{Tokens: []string{clitest.Token}, Latency: circlecitest.Duration(100 * time.Millisecond),
				RateLimit: &circlecitest.RateLimit{Limit: tc.limit, Window: circlecitest.Duration(time.Second)}}
			var targets []string
			for i := range tc.targets {
				slug := fmt.Sprintf("gh/acme/svc%d", i)
				sc.Projects = append(sc.Projects, circlecitest.Project{Slug: slug})
				targets = append(targets, fmt.Sprintf(`{"project-slug":%q}`, slug))
			}
			file := filepath.Join(b.TempDir(), "targets.json")
			if err := os.WriteFile(file, []byte("["+strings.Join(targets, ",")+"]"), 0o600); err != nil {
				b.Fatal(err)
			}
			var walls, trips, phases, reqs, conns, limited, peaks []float64
			for b.Loop() {
				s, host, opened := simtest.StartCounting(b, sc, nil)
				wall, peak := runBinary(b, host, "--targets", file, "--concurrency", "50")
				n, n429 := 0, 0
				first, last := time.Duration(math.MaxInt64), time.Duration(0)
				for _, q := range s.Requests() {
					n++
					if q.Status == 429 {
						n429++
					}
					first, last = min(first, q.At), max(last, q.At)
				}
				// The trigger phase: from the first request's arrival to the
				// last one's answer, without the process's start and exit.
				phases = append(phases, float64(last-first+100*time.Millisecond)/float64(100*time.Millisecond))
				walls = append(walls, ms(wall))
				trips = append(trips, float64(wall)/float64(100*time.Millisecond))
				reqs = append(reqs, float64(n))
				conns = append(conns, float64(opened.Load()))
				limited = append(limited, float64(n429))
				peaks = append(peaks, float64(peak)/(1<<20))
			}
			b.ReportMetric(simtest.Median(walls), "trigger-ms")
			b.ReportMetric(simtest.Median(trips), "round-trips")
			b.ReportMetric(simtest.Median(phases), "phase-round-trips")
			b.ReportMetric(math.Ceil(float64(tc.targets)/50)*1.1, "round-trips-allowed")
			b.ReportMetric(simtest.Median(reqs), "requests")
			b.ReportMetric(simtest.Median(conns), "connections")
			b.ReportMetric(simtest.Median(limited), "429s")
			b.ReportMetric(simtest.Median(peaks), "peak-MB")
		})
	}
}
