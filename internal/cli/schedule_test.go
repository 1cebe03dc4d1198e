package cli_test

// The fault schedule: whole runs (trigger, wait, fan-out, cancel) against
// the simulator on virtual time, each seed drawing its own timelines (late
// workflows, reruns and automatic reruns, setup with and without its tag,
// holds and approval jobs, errored pipelines and pipelines that cannot
// run) and faults (5xx that create or not, dropped connections, lagging
// lists, skewed clocks, 429s with long Retry-After, truncated and endless
// answers, echoed tokens, interruptions at any moment). Every seed must
// keep the promises:
//
//   - at most one pipeline per target, and a reported pipeline is one the
//     run created;
//   - the exit code and status tell the truth of the timeline: never a
//     success over a workflow that failed or still runs, never a failure
//     CircleCI was about to rerun;
//   - with cancel-on-exit, nothing the run saw running is left running at
//     a stop;
//   - no token in any output;
//   - the run ends within its timeout and a small bound.
//
// Runs are in-process, in a testing/synctest bubble (see internal/clitest):
// time is virtual, and a seed replays identically (TestFaultScheduleReplays
// holds it to that). Which seeds run:
//
//   - FAULT_SEEDS (100 by default) consecutive seeds from FAULT_SEED_START
//     (0 by default; CI derives it from the commit);
//   - every seed in testdata/fault-seeds.txt, those that ever failed;
//   - any seed a -run pattern names, so that a failing seed replays alone
//     with
//
//	go test -run 'TestFaultSchedule/seed=N$' ./internal/cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

func TestFaultSchedule(t *testing.T) {
	seeds := faultSeeds(t)
	start := time.Now()
	t.Cleanup(func() {
		if !t.Failed() {
			t.Logf("fault schedule: %d seeds in %s", len(seeds), time.Since(start).Round(time.Millisecond))
		}
	})
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			runSchedule(t, seed)
		})
	}
}

// faultSeeds are the seeds to run: a window, the regressions, and those a
// -run pattern names.
func faultSeeds(t *testing.T) []uint64 {
	count, first := uint64(100), uint64(0)
	if n, err := strconv.ParseUint(os.Getenv("FAULT_SEEDS"), 10, 64); err == nil {
		count = n
	}
	if n, err := strconv.ParseUint(os.Getenv("FAULT_SEED_START"), 10, 64); err == nil {
		first = n
	}
	var seeds []uint64
	for seed := first; seed < first+count; seed++ {
		seeds = append(seeds, seed)
	}
	b, err := os.ReadFile("testdata/fault-seeds.txt")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if f := flag.Lookup("test.run"); f != nil {
		text += "\n" + f.Value.String()
	}
	for _, m := range regexp.MustCompile(`(?m)^(\d+)\b|seed=(\d+)`).FindAllStringSubmatch(text, -1) {
		n, _ := strconv.ParseUint(m[1]+m[2], 10, 64)
		if !slices.Contains(seeds, n) {
			seeds = append(seeds, n)
		}
	}
	return seeds
}

// schedule is one seed's draw.
type schedule struct {
	sc          *circlecitest.Scenario
	slugs       []string
	args        []string
	action      bool
	wait        bool
	cancel      bool
	onHold      string
	timeout     time.Duration
	interruptAt int
}

func draw(seed uint64) schedule {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	chance := func(p float64) bool { return rng.Float64() < p }
	between := func(lo, hi time.Duration) circlecitest.Duration {
		return circlecitest.Duration(lo + time.Duration(rng.Int64N(int64(hi-lo)+1)))
	}
	pick := func(vs ...string) string { return vs[rng.IntN(len(vs))] }

	// What today's CircleCI does besides (automatic reruns, pipelines that
	// cannot run, numbered approval jobs) is drawn from a stream of its
	// own, so that a seed keeps the timelines and faults it drew before.
	more := newExtras(seed)
	history := histories{rand.New(rand.NewPCG(seed, 0x4157))}
	s := schedule{sc: &circlecitest.Scenario{Tokens: []string{clitest.Token}, PageSize: 2 + rng.IntN(19), Seed: int64(seed) + 1}}
	if chance(0.3) {
		s.sc.ClockSkew = between(-5*time.Minute, 5*time.Minute)
	}
	targets := 1 + rng.IntN(3)
	for i := range targets {
		slug := fmt.Sprintf("gh/acme/p%d", i)
		s.slugs = append(s.slugs, slug)
		p := circlecitest.Project{Slug: slug, Parameters: map[string]string{"n": "integer"},
			Pipeline: circlecitest.Timeline{CreatedAfter: between(100*time.Millisecond, 3*time.Second)}}
		if chance(0.3) {
			p.ListLag = between(0, 8*time.Second)
		}
		if chance(0.3) {
			for range 1 + rng.IntN(30) {
				p.Noise = append(p.Noise, circlecitest.Extra{Parameters: map[string]any{"n": 1000 + rng.IntN(9)}, After: chance(0.5)})
			}
		}
		if chance(0.08) {
			p.Pipeline.Errors = []circlecitest.PipelineError{{Type: "config", Message: "Unexpected argument(s): x"}}
		}
		if chance(0.2) { // dynamic config
			st := pick("success", "success", "success", "failed")
			p.Pipeline.Workflows = append(p.Pipeline.Workflows, circlecitest.WorkflowSpec{Name: "setup", Tag: "setup", HideTag: chance(0.5),
				Duration: between(time.Second, 10*time.Second), Status: st})
		}
		for j := range rng.IntN(4) {
			w := circlecitest.WorkflowSpec{Name: fmt.Sprintf("w%d", j), Appear: between(200*time.Millisecond, 10*time.Second),
				Duration: between(time.Second, 20*time.Minute),
				Status:   pick("success", "success", "success", "success", "failed", "failed", "canceled", "not_run", "error")}
			if chance(0.12) {
				w.Steps = []circlecitest.Step{{At: 0, Status: "on_hold"}}
			}
			more.workflow(&w)
			p.Pipeline.Workflows = append(p.Pipeline.Workflows, w)
			if chance(0.15) { // a rerun, listed later under the same name
				rerun := circlecitest.WorkflowSpec{Name: w.Name,
					Appear:   w.Appear + circlecitest.Duration(time.Duration(w.Duration)+2*time.Second) + between(0, 10*time.Second),
					Duration: between(time.Second, 5*time.Minute), Status: pick("success", "failed")}
				if w.MaxAutoReruns == 0 { // not beside CircleCI's own reruns, in the same second
					p.Pipeline.Workflows = append(p.Pipeline.Workflows, rerun)
				}
			}
		}
		more.project(&p)
		history.project(&p)
		s.sc.Projects = append(s.sc.Projects, p)
	}
	faults := []func() circlecitest.Fault{
		func() circlecitest.Fault {
			return circlecitest.Fault{Method: "POST", Path: "/project/*", Status: 500 + rng.IntN(4), AfterEffect: chance(0.6), Count: 1 + rng.IntN(3)}
		},
		func() circlecitest.Fault {
			return circlecitest.Fault{Method: "POST", Path: "/project/*", Drop: true, AfterEffect: chance(0.5), Count: 1}
		},
		func() circlecitest.Fault {
			return circlecitest.Fault{Method: "POST", Path: "/project/*", Delay: between(time.Second, 40*time.Second), Drop: true, AfterEffect: true, Count: 1}
		},
		func() circlecitest.Fault {
			return circlecitest.Fault{Method: "POST", Path: "/project/*", Status: 429, RetryAfter: strconv.Itoa(1 + rng.IntN(400)), Count: 1}
		},
		func() circlecitest.Fault {
			return circlecitest.Fault{Method: "GET", Path: "/pipeline/*", Status: pick502(rng), Count: 1 + rng.IntN(6), Skip: rng.IntN(5)}
		},
		func() circlecitest.Fault {
			return circlecitest.Fault{Method: "GET", Path: "/pipeline/*", Status: 429, RetryAfter: strconv.Itoa(1 + rng.IntN(300)), Count: 1, Skip: rng.IntN(5)}
		},
		func() circlecitest.Fault {
			return circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Truncate: 1 + rng.IntN(40), Count: 1, Skip: rng.IntN(5)}
		},
		func() circlecitest.Fault {
			return circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Endless: pick("empty", "repeat"), Count: 1, Skip: rng.IntN(5)}
		},
		func() circlecitest.Fault {
			return circlecitest.Fault{Method: "GET", Path: "/project/*/pipeline/mine", Status: 500, Count: 1 + rng.IntN(3)}
		},
		func() circlecitest.Fault {
			return circlecitest.Fault{Method: "GET", Path: "/pipeline/*", Status: 500, EchoToken: true, Count: 1, Skip: rng.IntN(5)}
		},
	}
	for range rng.IntN(4) {
		s.sc.Faults = append(s.sc.Faults, faults[rng.IntN(len(faults))]())
	}

	s.action, s.wait, s.cancel = chance(0.3), chance(0.8), chance(0.5)
	s.onHold = pick("wait", "succeed", "fail")
	s.timeout = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute}[rng.IntN(3)]
	if chance(0.3) {
		s.interruptAt = 1 + rng.IntN(25)
	}
	var ts []string
	for i, slug := range s.slugs {
		ts = append(ts, fmt.Sprintf(`{"project-slug": %q, "parameters": {"n": %d}}`, slug, i))
	}
	s.args = []string{"--targets", "[" + strings.Join(ts, ",") + "]", "--json", "--on-hold", s.onHold, "--timeout", s.timeout.String()}
	if s.wait {
		s.args = append(s.args, "--wait")
	}
	if s.cancel {
		s.args = append(s.args, "--cancel-on-exit")
	}
	if chance(0.3) {
		s.args = append(s.args, "--fail-fast")
	}
	return s
}

func pick502(rng *rand.Rand) int { return []int{500, 502, 503, 504}[rng.IntN(4)] }

// extras draws what today's CircleCI adds to a seed's world.
type extras struct{ rng *rand.Rand }

func newExtras(seed uint64) extras { return extras{rand.New(rand.NewPCG(seed, 0xa070))} }

func (x extras) chance(p float64) bool { return x.rng.Float64() < p }

func (x extras) between(lo, hi time.Duration) circlecitest.Duration {
	return circlecitest.Duration(lo + time.Duration(x.rng.Int64N(int64(hi-lo)+1)))
}

// workflow may make w one CircleCI reruns by itself when it fails (or
// declines to), and gives a held workflow its approval job.
func (x extras) workflow(w *circlecitest.WorkflowSpec) {
	if x.chance(0.25) {
		w.MaxAutoReruns = 1 + x.rng.IntN(3)
		w.AutoRerunDelay = x.between(200*time.Millisecond, 10*time.Second)
		w.DeclineAutoReruns = x.chance(0.15)
		for range 1 + x.rng.IntN(3) {
			st := []string{"success", "failed", "failed", "error"}[x.rng.IntN(4)]
			w.Reruns = append(w.Reruns, circlecitest.WorkflowSpec{Duration: x.between(time.Second, 5*time.Minute), Status: st})
		}
		w.Jobs = []circlecitest.JobSpec{{Name: "unit", Status: "failed"}, {Name: "lint", Status: "success"}}
	}
	if len(w.Steps) > 0 && w.Steps[0].Status == "on_hold" {
		w.Jobs = append(w.Jobs, circlecitest.JobSpec{Name: "approve", Type: "approval", Status: "on_hold", Unnumbered: x.chance(0.3)})
	}
}

// project places p at its own distance (so that no two targets' requests
// arrive at the same instant, whose order the scheduler would choose), and
// may give it errors: a pipeline that cannot run for its plan, or errors
// beside the workflows it runs.
func (x extras) project(p *circlecitest.Project) {
	p.Latency = x.between(300*time.Microsecond, 3*time.Millisecond)
	switch {
	case x.chance(0.06):
		p.Pipeline.Errors = []circlecitest.PipelineError{{Type: "plan", Message: "This organization has run out of credits."}}
		p.Pipeline.ErrorsState, p.Pipeline.Workflows = "created", nil
	case x.chance(0.04):
		p.Pipeline.Errors = append(p.Pipeline.Errors, circlecitest.PipelineError{Type: "config-fetch", Message: "Could not fetch an orb."})
		p.Pipeline.ErrorsState = "created"
	}
}

// run runs the command as the schedule draws it: on the command line or
// as the Action, against its scenario, interrupted where it says.
func (s schedule) run(t *testing.T) clitest.Result {
	p := clitest.Cmdline(t, s.args...)
	if s.action {
		p = clitest.GitHub(t, nil)
		p.Args = s.args
	}
	p.Scenario, p.Interrupt = s.sc, s.interruptAt
	return p.Run()
}

func runSchedule(t *testing.T, seed uint64) {
	s := draw(seed)
	r := s.run(t)
	defer func() {
		if t.Failed() {
			t.Logf("replay: go test -run 'TestFaultSchedule/seed=%d$' ./internal/cli\nargs %q\nscenario %+v\nstdout:\n%s\nstderr:\n%s", seed, s.args, s.sc, r.Stdout, r.Stderr)
			for _, q := range r.Requests("", "*") {
				t.Logf("%v %s %s: %d (served %v, lost %t, mangled %t, partial %t)", q.At, q.Method, q.Path, q.Status, q.Served, q.Lost(), q.Mangled(), q.Partial())
			}
		}
	}()

	// No token in any output (the Action masks it on its first line).
	out := r.Stdout
	if s.action {
		_, out, _ = strings.Cut(out, "\n")
	}
	for _, o := range append([]string{out, r.Stderr, r.Summary}, slices.Collect(maps.Values(r.Outputs))...) {
		if strings.Contains(o, clitest.Token) {
			t.Fatalf("the token is in an output")
		}
	}
	if bound := s.timeout + 10*time.Second; r.Elapsed > bound {
		t.Errorf("ran %s with a %s timeout", r.Elapsed, s.timeout)
	}
	var res results
	if s.action {
		res.Status = r.Outputs["status"]
		json.Unmarshal([]byte(r.Outputs["results"]), &res.Results)
	} else {
		json.Unmarshal([]byte(r.Stdout), &res)
	}
	if res.Status == "" || len(res.Results) != len(s.slugs) {
		t.Fatalf("status %q, %d results for %d targets", res.Status, len(res.Results), len(s.slugs))
	}
	for i, tr := range res.Results {
		slug := s.slugs[i]
		created := r.Sim.Created(slug)
		if len(created) > 1 {
			t.Errorf("%s: %d pipelines for one request", slug, len(created))
		}
		if tr.Status == "" {
			t.Errorf("%s: empty status", slug)
		}
		if tr.ID == "" {
			continue
		}
		if !slices.Contains(created, tr.ID) {
			t.Errorf("%s: reported pipeline %s, which the run did not create (%v)", slug, tr.ID, created)
			continue
		}
		// The verdict came from the last read of the workflows; other
		// targets may have moved the shared clock on since.
		var last time.Duration
		for _, q := range r.Requests("GET", "/pipeline/"+tr.ID+"*") {
			if q.Status == 200 && !q.Lost() && !q.Mangled() && !q.Partial() { // an answer the run got, and could read whole
				last = max(last, q.Served)
			}
		}
		if last > 0 {
			checkVerdict(t, slug, tr.Status, tr.ExitCode, truthOf(t, r.Sim, tr.ID, last), s)
		}
		// A stop: the run was interrupted or timed out (not a downstream
		// that was canceled, nor a target stopped by fail-fast). What its
		// last read listed is final once its cancels are answered.
		if s.cancel && (strings.Contains(tr.Error, ": interrupted") || tr.Status == "timed-out") {
			var listed []circleci.Workflow
			for _, q := range r.Requests("GET", "/pipeline/"+tr.ID+"/workflow") {
				if q.Status == 200 && !q.Lost() && !q.Mangled() && !q.Partial() { // an answer the run got, and could read whole
					listed = truthOf(t, r.Sim, tr.ID, q.Served).workflows
				}
			}
			end := last
			for _, w := range listed {
				for _, q := range r.Requests("POST", "/workflow/"+w.ID+"/cancel") {
					end = max(end, q.Served)
				}
			}
			now := truthOf(t, r.Sim, tr.ID, end).workflows
			for _, w := range listed {
				i := slices.IndexFunc(now, func(n circleci.Workflow) bool { return n.ID == w.ID })
				if i < 0 || !now[i].Final() {
					t.Errorf("%s: workflow %s is not final after a stop with cancel-on-exit: %+v", slug, w.Name, now)
				}
			}
		}
	}
}

// truth is what the simulator's timeline says of a pipeline at a moment.
type truth struct {
	state     string
	errors    bool
	workflows []circleci.Workflow // the newest of each name
	due       map[string]bool     // runs CircleCI will rerun by itself, and has not yet
}

func truthOf(t *testing.T, s *circlecitest.Simulator, id string, at time.Duration) truth {
	t.Helper()
	pt, ok := s.Truth(id, at)
	if !ok {
		t.Fatalf("no pipeline %s", id)
	}
	newest := map[string]circlecitest.WorkflowTruth{}
	for _, w := range pt.Workflows {
		if n, ok := newest[w.Name]; !ok || w.Created.After(n.Created) {
			newest[w.Name] = w
		}
	}
	tr := truth{state: pt.State, errors: len(pt.Errors) > 0, due: map[string]bool{}}
	for _, w := range newest {
		tr.workflows = append(tr.workflows, circleci.Workflow{ID: w.ID, Name: w.Name, Status: w.Status, Tag: w.Tag})
		tr.due[w.ID] = w.RerunDue
	}
	return tr
}

// checkVerdict holds a target's status and exit code against the truth.
func checkVerdict(t *testing.T, slug, status string, code int, tr truth, s schedule) {
	t.Helper()
	has := func(sts ...string) bool {
		return slices.ContainsFunc(tr.workflows, func(w circleci.Workflow) bool { return slices.Contains(sts, w.Status) })
	}
	// A failure CircleCI is about to rerun is not one.
	final := func(sts ...string) bool {
		return slices.ContainsFunc(tr.workflows, func(w circleci.Workflow) bool { return slices.Contains(sts, w.Status) && !tr.due[w.ID] })
	}
	real := slices.ContainsFunc(tr.workflows, func(w circleci.Workflow) bool { return w.Tag != "setup" })
	wantCode := map[string]int{"success": 0, "no-workflows": 0, "triggered": 0, "failed": 1, "errored": 1, "timed-out": 8, "canceled": 6}
	if want, ok := wantCode[status]; ok && code != want {
		t.Errorf("%s: status %s with exit code %d", slug, status, code)
	}
	switch status {
	case "success":
		if has("running", "failing", "queued", "failed", "error", "unauthorized", "canceled") || (has("on_hold") && s.onHold != "succeed") || !real {
			t.Errorf("%s: success over %+v", slug, tr.workflows)
		}
	case "no-workflows":
		if real || tr.errors {
			t.Errorf("%s: no-workflows over %+v, errors %v", slug, tr.workflows, tr.errors)
		}
	case "failed":
		if !final("failed", "error", "unauthorized", "failing") {
			t.Errorf("%s: failed over %+v (CircleCI reruns %v)", slug, tr.workflows, tr.due)
		}
	case "errored":
		if tr.state != "errored" && (real || !tr.errors) {
			t.Errorf("%s: errored, but the pipeline is %s with errors %v and workflows %+v", slug, tr.state, tr.errors, tr.workflows)
		}
	case "on-hold":
		if !has("on_hold") || s.onHold == "wait" {
			t.Errorf("%s: on-hold over %+v with on-hold %s", slug, tr.workflows, s.onHold)
		}
	}
}

// histories draws, from a stream of its own, what insights know of a
// project (so that the wait polls around predicted ends), and workflows
// timed by their jobs (so that it reads the jobs of one running alone).
type histories struct{ rng *rand.Rand }

func (x histories) project(p *circlecitest.Project) {
	if x.rng.Float64() >= 0.3 {
		return
	}
	p.Insights = &circlecitest.Insights{Runs: x.rng.IntN(40)}
	for i := range p.Pipeline.Workflows {
		w := &p.Pipeline.Workflows[i]
		w.Spread = 0.02 + 0.3*x.rng.Float64()
		if w.Tag == "setup" || w.Duration < circlecitest.Duration(time.Minute) || len(w.Jobs) > 0 || len(w.Steps) > 0 ||
			x.rng.Float64() >= 0.6 {
			continue
		}
		n := 2 + x.rng.IntN(3)
		failing := -1
		if w.Status == "failed" {
			failing = x.rng.IntN(n)
		}
		for k := range n {
			j := circlecitest.JobSpec{Name: fmt.Sprintf("j%d", k), Duration: w.Duration / circlecitest.Duration(n), Status: "success"}
			if k > 0 {
				j.Requires = []string{fmt.Sprintf("j%d", x.rng.IntN(k))}
			}
			if k == failing {
				j.Status = "failed"
			}
			w.Jobs = append(w.Jobs, j)
		}
		w.Duration, w.Steps = 0, nil
	}
}
