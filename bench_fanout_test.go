package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

// baselineRev is the commit BenchmarkFanoutScale compares with, side by
// side in the same run: the request budget before it followed each family
// of headers on its own (BENCH_BASELINE names another; "none" skips it).
const baselineRev = "eb2d10484d2b27dab5f77e7f289193442380f813"

// fanoutCase is one fan-out of BenchmarkFanoutScale.
type fanoutCase struct {
	name        string
	targets     int
	wait        bool // each target runs a 6s build, waited for
	concurrency int
	latency     time.Duration // per answer; 100ms by default
	jitter      time.Duration // and up to this more, each way: answers overtake each other
	limits      []circlecitest.RateLimit
}

func perSecond(n int) []circlecitest.RateLimit {
	return []circlecitest.RateLimit{{Limit: n, Window: circlecitest.Duration(time.Second)}}
}

var fanoutCases = []fanoutCase{
	{name: "1", targets: 1, limits: perSecond(1000)},
	{name: "50", targets: 50, limits: perSecond(1000)},
	{name: "200", targets: 200, limits: perSecond(1000)},
	{name: "1000", targets: 1000, limits: perSecond(1000)},
	{name: "1000/limit151", targets: 1000, limits: perSecond(151)},
	{name: "1000/limit1e6", targets: 1000, limits: perSecond(1_000_000)},
	{name: "1000/none-announced", targets: 1000},
	// 40 targets that wait, under limits CircleCI may announce, with
	// windows not aligned with the run's start.
	{name: "wait40/RateLimit-20per2s", targets: 40, wait: true, concurrency: 10,
		limits: []circlecitest.RateLimit{{Limit: 20, Window: d(2 * time.Second), Offset: d(700 * time.Millisecond), Headers: "ratelimit"}}},
	{name: "wait40/RateLimit-20per2s-floor", targets: 40, wait: true, concurrency: 10,
		limits: []circlecitest.RateLimit{{Limit: 20, Window: d(2 * time.Second), Offset: d(1300 * time.Millisecond), Headers: "ratelimit", Floor: true}}},
	{name: "wait40/X-RateLimit-Limit-Second-10", targets: 40, wait: true, concurrency: 10,
		limits: []circlecitest.RateLimit{{Limit: 10, Window: d(time.Second), Offset: d(400 * time.Millisecond), Headers: "x-ratelimit-unit"}}},
	{name: "wait40/both-30per3s-8per1s", targets: 40, wait: true, concurrency: 8,
		limits: []circlecitest.RateLimit{{Limit: 30, Window: d(3 * time.Second), Offset: d(100 * time.Millisecond), Headers: "ratelimit"},
			{Limit: 8, Window: d(time.Second), Offset: d(600 * time.Millisecond), Headers: "x-ratelimit-unit"}}},
	{name: "wait40/40per2s-then-15", targets: 40, wait: true, concurrency: 10,
		limits: []circlecitest.RateLimit{{Limit: 40, Window: d(2 * time.Second), Offset: d(900 * time.Millisecond), Headers: "both",
			Changes: []circlecitest.LimitChange{{At: d(4 * time.Second), Limit: 15}}}}},
	{name: "wait40/20per2s-out-of-order", targets: 40, wait: true, concurrency: 10, latency: 50 * time.Millisecond, jitter: 100 * time.Millisecond,
		limits: []circlecitest.RateLimit{{Limit: 20, Window: d(2 * time.Second), Offset: d(500 * time.Millisecond), Headers: "ratelimit"}}},
}

func d(v time.Duration) circlecitest.Duration { return circlecitest.Duration(v) }

// BenchmarkFanoutScale: fan-outs against a simulator that takes 100ms per
// answer and announces rate limits, by the binary of this commit and, side
// by side, by that of baselineRev. Trigger only: 1, 50, 200 and 1000
// projects with the default concurrency of 50 under 1000 requests a
// second; 1000 again under 151 a second (the figure recorded on a
// trigger answer), under a million, and under none announced. Then 40
// projects that wait for a 6s build, under the limits CircleCI may
// announce. It reports the process's wall time, the trigger phase in
// round trips, the requests, the connections opened, the 429s and the peak
// memory.
func BenchmarkFanoutScale(b *testing.B) {
	binaries := [][2]string{{"new", clitest.Binary}}
	if path, err := baselineBinary(b); err != nil {
		b.Logf("no baseline: %v", err)
	} else if path != "" {
		binaries = append([][2]string{{"before", path}}, binaries...)
	}
	for _, tc := range fanoutCases {
		for _, bin := range binaries {
			b.Run(tc.name+"/"+bin[0], func(b *testing.B) { fanout(b, tc, bin[1]) })
		}
	}
}

func fanout(b *testing.B, tc fanoutCase, binary string) {
	latency := tc.latency
	if latency == 0 {
		latency = 100 * time.Millisecond
	}
	sc := &circlecitest.Scenario{Tokens: []string{clitest.Token}, Latency: circlecitest.Duration(latency), Jitter: circlecitest.Duration(tc.jitter),
		RateLimits: tc.limits, Seed: 1}
	var targets []string
	for i := range tc.targets {
		slug := fmt.Sprintf("gh/acme/svc%d", i)
		p := circlecitest.Project{Slug: slug}
		if tc.wait {
			p.Pipeline.Workflows = []circlecitest.WorkflowSpec{{Name: "build", Duration: d(6 * time.Second)}}
		}
		sc.Projects = append(sc.Projects, p)
		targets = append(targets, fmt.Sprintf(`{"project-slug":%q}`, slug))
	}
	file := filepath.Join(b.TempDir(), "targets.json")
	if err := os.WriteFile(file, []byte("["+strings.Join(targets, ",")+"]"), 0o600); err != nil {
		b.Fatal(err)
	}
	concurrency := tc.concurrency
	if concurrency == 0 {
		concurrency = 50
	}
	args := []string{"--targets", file, "--concurrency", fmt.Sprint(concurrency)}
	if tc.wait {
		args = append(args, "--wait", "--poll-interval", "1s")
	}
	var walls, phases, reqs, conns, limited, peaks []float64
	for b.Loop() {
		s, host, opened := simtest.StartCounting(b, sc, nil)
		wall, peak := runBinaryAt(b, binary, host, args...)
		n, n429 := 0, 0
		first, lastTrigger := time.Duration(math.MaxInt64), time.Duration(0)
		for _, q := range s.Requests() {
			n++
			if q.Status == 429 {
				n429++
			}
			first = min(first, q.At)
			if q.Method == "POST" {
				lastTrigger = max(lastTrigger, q.At)
			}
		}
		// The trigger phase: from the first request's arrival to the last
		// trigger's answer, without the process's start and exit.
		phases = append(phases, float64(lastTrigger-first+latency)/float64(latency))
		walls = append(walls, ms(wall))
		reqs = append(reqs, float64(n))
		conns = append(conns, float64(opened.Load()))
		limited = append(limited, float64(n429))
		peaks = append(peaks, float64(peak)/(1<<20))
	}
	b.ReportMetric(simtest.Median(walls), "wall-ms")
	b.ReportMetric(simtest.Median(phases), "trigger-round-trips")
	b.ReportMetric(math.Ceil(float64(tc.targets)/float64(concurrency))*1.1, "round-trips-allowed")
	b.ReportMetric(simtest.Median(reqs), "requests")
	b.ReportMetric(simtest.Median(conns), "connections")
	b.ReportMetric(simtest.Median(limited), "429s")
	b.ReportMetric(simtest.Median(peaks), "peak-MB")
}

var baseline struct {
	once sync.Once
	path string
	err  error
}

// baselineBinary builds the binary of the baseline commit, once, in a
// worktree of its own: "" when BENCH_BASELINE is "none".
func baselineBinary(b *testing.B) (string, error) {
	baseline.once.Do(func() {
		rev := os.Getenv("BENCH_BASELINE")
		switch rev {
		case "none":
			return
		case "":
			rev = baselineRev
		}
		dir, err := os.MkdirTemp("", "circleci-trigger-baseline")
		if err != nil {
			baseline.err = err
			return
		}
		tree := filepath.Join(dir, "tree")
		baseline.path = filepath.Join(dir, "circleci-trigger")
		for _, c := range [][]string{{"git", "worktree", "add", "--detach", tree, rev}, {"go", "-C", tree, "build", "-o", baseline.path, "."},
			{"git", "worktree", "remove", "--force", tree}} {
			if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
				baseline.path, baseline.err = "", fmt.Errorf("%s: %v\n%s", strings.Join(c, " "), err, out)
				return
			}
		}
	})
	return baseline.path, baseline.err
}
