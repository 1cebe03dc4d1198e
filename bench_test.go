package main

// Benchmarks of the whole process against the simulator (the README's performance targets). They
// report medians over their iterations; scripts/bench.sh runs them several
// times and takes the median of those with benchstat.

import (
	"bytes"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

// runBinary runs the binary once and returns its wall time and peak RSS.
func runBinary(b *testing.B, host string, args ...string) (time.Duration, int64) {
	b.Helper()
	return runBinaryAt(b, clitest.Binary, host, args...)
}

// runBinaryAt is runBinary of the binary at path.
func runBinaryAt(b *testing.B, path, host string, args ...string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = []string{"CIRCLE_HOST=" + host, "CIRCLE_TOKEN=" + clitest.Token}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%v\n%s", err, out.String())
	}
	return time.Since(start), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
}

// BenchmarkTriggerOnly: a trigger without waiting, against the raw round
// trip of the same POST on a fresh connection. The difference is the
// tool's own cost: process start, input checks, output. start-ms is the
// part of it a bare start and exit of the binary (--version) costs.
func BenchmarkTriggerOnly(b *testing.B) {
	_, host := simtest.Start(b, clitest.World(), nil)
	var runs, raws, overheads, starts []float64
	for b.Loop() {
		tr := &http.Transport{}
		req, _ := http.NewRequest("POST", host+"/api/v2/project/gh/acme/api/pipeline", strings.NewReader(`{"branch":"main"}`))
		req.Header.Set("Circle-Token", clitest.Token)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		raw := time.Since(start)
		tr.CloseIdleConnections()

		run, _ := runBinary(b, host, "--project-slug", "gh/acme/api", "--branch", "main")
		runs = append(runs, ms(run))
		raws = append(raws, ms(raw))
		overheads = append(overheads, ms(run-raw))
		bare, _ := runBinary(b, host, "--version")
		starts = append(starts, ms(bare))
	}
	b.ReportMetric(simtest.Median(runs), "run-ms")
	b.ReportMetric(simtest.Median(starts), "start-ms")
	b.ReportMetric(simtest.Median(raws), "roundtrip-ms")
	b.ReportMetric(simtest.Median(overheads), "overhead-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkFanout50: triggering 50 projects against a simulator that takes
// 100ms per answer, against triggering one; and the peak memory of the
// process while it waits on all 50.
func BenchmarkFanout50(b *testing.B) {
	var projects, targets []string
	for i := range 50 {
		projects = append(projects, fmt.Sprintf(`{"slug":"gh/acme/svc%d","pipeline":{"workflows":[{"name":"build","duration":"8s"},{"name":"test","duration":"10s"}]}}`, i))
		targets = append(targets, fmt.Sprintf(`{"project-slug":"gh/acme/svc%d"}`, i))
	}
	scenario := circlecitest.MustParse(fmt.Sprintf(`{"tokens":[%q],"latency":"100ms","projects":[%s]}`, clitest.Token, strings.Join(projects, ",")))
	all := "[" + strings.Join(targets, ",") + "]"
	var singles, fans, ratios, peaks []float64
	for b.Loop() {
		_, host := simtest.Start(b, scenario, nil)
		single, _ := runBinary(b, host, "--project-slug", "gh/acme/svc0")
		fan, _ := runBinary(b, host, "--targets", all)
		_, peak := runBinary(b, host, "--targets", all, "--wait")
		singles = append(singles, ms(single))
		fans = append(fans, ms(fan))
		ratios = append(ratios, float64(fan)/float64(single))
		peaks = append(peaks, float64(peak)/(1<<20))
	}
	b.ReportMetric(simtest.Median(singles), "single-ms")
	b.ReportMetric(simtest.Median(fans), "fanout50-ms")
	b.ReportMetric(simtest.Median(ratios), "x-single")
	b.ReportMetric(simtest.Median(peaks), "peak-MB")
}

// BenchmarkWaitProcess20s: the lag from the end of the last workflow of a
// 20-second pipeline to the exit of the process, with default settings,
// on real time.
func BenchmarkWaitProcess20s(b *testing.B) {
	scenario := circlecitest.MustParse(fmt.Sprintf(`{"tokens":[%q],"projects":[{"slug":"gh/acme/api","pipeline":{"workflows":[{"name":"build","duration":"20s"}]}}]}`, clitest.Token))
	var lags, rates []float64
	for b.Loop() {
		simStart := time.Now()
		s, host := simtest.Start(b, scenario, nil)
		start := time.Now()
		run, _ := runBinary(b, host, "--project-slug", "gh/acme/api", "--wait")
		exit := start.Add(run)
		reqs := s.Requests()
		// The trigger's arrival creates the pipeline; on the simulator's
		// timeline the workflow is listed 500ms later and runs 20s.
		end := simStart.Add(reqs[0].At + 20500*time.Millisecond)
		lags = append(lags, exit.Sub(end).Seconds())
		rates = append(rates, float64(len(reqs)-1)/run.Minutes())
	}
	b.ReportMetric(simtest.Median(lags), "lag-s")
	b.ReportMetric(simtest.Median(rates), "req/pipeline-min")
}
