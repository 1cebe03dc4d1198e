package wait

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

const token = "fake-token-wait"

// setup starts the simulator and a client on one fake clock, triggers a
// pipeline of project gh/acme/p, and returns what Wait needs.
func setup(t testing.TB, scenario string) (*circlecitest.Simulator, *circleci.Client, circleci.Pipeline, *circlecitest.FakeClock) {
	t.Helper()
	clk := circlecitest.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s, host := simtest.Start(t, circlecitest.MustParse(scenario), clk)
	c := &circleci.Client{BaseURL: host + "/api/v2", Token: token, Clock: clk}
	_, body, err := c.Do(context.Background(), "POST", "/project/gh/acme/p/pipeline", nil, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := circleci.ParsePipeline(body)
	if err != nil {
		t.Fatal(err)
	}
	return s, c, p, clk
}

func scenario(workflows string, extra ...string) string {
	return fmt.Sprintf(`{"tokens":[%q],"projects":[{"slug":"gh/acme/p","pipeline":{"workflows":[%s]}}]%s}`, token, workflows, strings.Join(extra, ""))
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) opts(o Options) Options {
	o.Logf = func(f string, a ...any) { l.add(fmt.Sprintf(f, a...)) }
	o.Progress = func(ev Event) {
		if len(ev.Waiting) > 0 {
			l.add(fmt.Sprintf("progress   waiting %v", ev.Waiting))
			return
		}
		l.add(fmt.Sprintf("progress %s %s %s", ev.State, ev.Workflow.Name, ev.Workflow.Status))
	}
	return o
}

func (l *logs) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *logs) count(sub string) int {
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

func TestLongPipelineIsGentleAndPrompt(t *testing.T) {
	t.Parallel()
	s, c, p, clk := setup(t, scenario(`{"name":"build","duration":"20m"},{"name":"lint","duration":"30s"}`))
	var l logs
	start := clk.Now()
	res, err := Wait(context.Background(), c, p, l.opts(Options{}))
	if err != nil || res.Status != StatusSuccess {
		t.Fatalf("Wait = %s, %v", res.Status, err)
	}
	ended := p.CreatedAt.Add(300*time.Millisecond + 200*time.Millisecond + 20*time.Minute)
	if lag := clk.Now().Sub(ended); lag > 31*time.Second || lag < 0 {
		t.Errorf("lag after the last workflow ended = %s, want at most max-poll-interval + 1s", lag)
	}
	n := len(s.Requests()) - 1 // the trigger
	minutes := clk.Now().Sub(start).Minutes()
	// The first minute polls every 2s; after that, about 2 a minute.
	if perMin := float64(n-32) / (minutes - 1); perMin > 3 {
		t.Errorf("%d requests in %.1f minutes: %.1f a minute after the first, want about 2", n, minutes, perMin)
	}
	if got := l.count("progress  build running"); got != 1 {
		t.Errorf("build running reported %d times, want once per change:\n%s", got, strings.Join(l.lines, "\n"))
	}
	if s.Count("GET", "/pipeline/"+p.ID) == 0 {
		t.Error("never read the pipeline")
	}
	// 20 quiet minutes: a reminder every 5, not a line per poll.
	if n := l.count("progress   waiting"); n < 3 || n > 4 {
		t.Errorf("%d heartbeats in 20 quiet minutes, want one per 5 minutes:\n%s", n, strings.Join(l.lines, "\n"))
	}
}

func TestShortPipelineEndsWithinPollInterval(t *testing.T) {
	t.Parallel()
	_, c, p, clk := setup(t, scenario(`{"name":"build","duration":"15s"}`))
	res, err := Wait(context.Background(), c, p, Options{})
	if err != nil || res.Status != StatusSuccess {
		t.Fatalf("Wait = %s, %v", res.Status, err)
	}
	ended := p.CreatedAt.Add(500*time.Millisecond + 15*time.Second)
	if lag := clk.Now().Sub(ended); lag > 3*time.Second {
		t.Errorf("lag = %s, want under poll-interval + 1s", lag)
	}
}

func TestTimeoutNamesWhatRunsAndCancels(t *testing.T) {
	t.Parallel()
	for _, cancel := range []bool{false, true} {
		t.Run(fmt.Sprint("cancel=", cancel), func(t *testing.T) {
			t.Parallel()
			s, c, p, clk := setup(t, scenario(`{"name":"build","duration":"1h"},{"name":"quick","duration":"1s"}`))
			start := clk.Now()
			res, err := Wait(context.Background(), c, p, Options{Timeout: 10 * time.Minute, CancelOnExit: cancel})
			if !errors.Is(err, ErrTimeout) || res.Status != StatusTimedOut || !strings.Contains(err.Error(), "build=running") || strings.Contains(err.Error(), "quick") {
				t.Fatalf("Wait = %s, %v", res.Status, err)
			}
			if took := clk.Now().Sub(start); took < 10*time.Minute || took > 10*time.Minute+time.Second {
				t.Errorf("timed out after %s", took)
			}
			cancels := s.Count("POST", "/workflow/*/cancel")
			if want := map[bool]int{false: 0, true: 1}[cancel]; cancels != want || len(res.Canceled) != want {
				t.Errorf("cancel requests = %d, reported %d, want %d", cancels, len(res.Canceled), want)
			}
		})
	}
}

func TestInterruptedWaitCancelsWithCancelOnExit(t *testing.T) {
	t.Parallel()
	s, c, p, _ := setup(t, scenario(`{"name":"build","duration":"1h"},{"name":"deploy","steps":[{"at":"0s","status":"on_hold"}]}`))
	ctx, stop := context.WithCancel(context.Background())
	var once sync.Once
	o := Options{CancelOnExit: true, Progress: func(ev Event) {
		if ev.Workflow.Status == "on_hold" {
			once.Do(stop)
		}
	}}
	res, err := Wait(ctx, c, p, o)
	if !errors.Is(err, ErrInterrupted) || res.Status != StatusCanceled {
		t.Fatalf("Wait = %s, %v", res.Status, err)
	}
	if n := s.Count("POST", "/workflow/*/cancel"); n != 2 || len(res.Canceled) != 2 {
		t.Errorf("cancel requests = %d (reported %d), want 2: build and the held deploy", n, len(res.Canceled))
	}
}

func TestOutageDuringWaitIsRidden(t *testing.T) {
	t.Parallel()
	sc := scenario(`{"name":"build","duration":"4m"}`, `,"faults":[{"path":"/pipeline/*","status":503,"from":"1m","until":"3m"}]`)
	s, c, p, _ := setup(t, sc)
	var l logs
	res, err := Wait(context.Background(), c, p, l.opts(Options{}))
	if err != nil || res.Status != StatusSuccess {
		t.Fatalf("Wait = %s, %v", res.Status, err)
	}
	faults := 0
	for _, r := range s.Requests() {
		if r.Fault {
			faults++
		}
	}
	if faults < 3 {
		t.Errorf("only %d requests met the outage", faults)
	}
	if l.count("503") != 1 || l.count("answers again") != 1 {
		t.Errorf("want one line for the outage and one for its end:\n%s", strings.Join(l.lines, "\n"))
	}
}

func TestPersistentOutageEndsTheWait(t *testing.T) {
	t.Parallel()
	sc := scenario(`{"name":"build","duration":"1h"}`, `,"faults":[{"path":"/pipeline/*","status":500,"from":"1m"}]`)
	_, c, p, _ := setup(t, sc)
	_, err := Wait(context.Background(), c, p, Options{})
	var se *circleci.StatusError
	if !errors.As(err, &se) || se.Code != 500 || !strings.Contains(err.Error(), "API errors for 5m") {
		t.Fatalf("err = %v", err)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	sc := scenario(`{"name":"build","duration":"1m"}`, `,"faults":[{"path":"/pipeline/*/workflow","status":429,"retry_after":"20","count":1}]`)
	s, c, p, _ := setup(t, sc)
	if _, err := Wait(context.Background(), c, p, Options{}); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	for i, r := range reqs {
		if r.Fault {
			if gap := reqs[i+1].At - r.At; gap < 20*time.Second {
				t.Errorf("next request %s after the 429, want at least Retry-After (20s)", gap)
			}
			return
		}
	}
	t.Error("no 429 was served")
}

func TestDynamicConfigContinuationFails(t *testing.T) {
	t.Parallel()
	_, c, p, _ := setup(t, scenario(`{"name":"setup","tag":"setup","duration":"10s"},{"name":"deploy","appear":"3s","duration":"20s","status":"failed","jobs":[{"name":"apply","status":"failed"},{"name":"plan","status":"success"}]}`))
	res, err := Wait(context.Background(), c, p, Options{})
	var de *DownstreamError
	if !errors.As(err, &de) || de.Status != StatusFailed || len(res.Workflows) != 2 {
		t.Fatalf("Wait = %+v, %v", res.Workflows, err)
	}
	jobs := res.Jobs[res.Workflows[1].ID]
	if len(jobs) != 1 || jobs[0].Name != "apply" {
		t.Errorf("failed jobs = %+v, want apply only", jobs)
	}
}

func TestSetupOnlyPipelineSettles(t *testing.T) {
	t.Parallel()
	_, c, p, clk := setup(t, scenario(`{"name":"setup","tag":"setup","duration":"10s"}`))
	res, err := Wait(context.Background(), c, p, Options{})
	if err != nil || res.Status != StatusNoWorkflows || !res.Nothing {
		t.Fatalf("Wait = %s, %v", res.Status, err)
	}
	if waited := clk.Now().Sub(p.CreatedAt); waited < 25*time.Second {
		t.Errorf("ended %s after creation: the settle period after the setup workflow was skipped", waited)
	}
}

func TestNoWorkflowAtAll(t *testing.T) {
	t.Parallel()
	_, c, p, _ := setup(t, scenario(``))
	res, err := Wait(context.Background(), c, p, Options{})
	if err != nil || !res.Nothing || res.Status != StatusNoWorkflows {
		t.Fatalf("Wait = %+v, %v", res, err)
	}
}

func TestRerunReplacesTheFailedRun(t *testing.T) {
	t.Parallel()
	_, c, p, _ := setup(t, scenario(`{"name":"build","duration":"5s","status":"failed"},{"name":"build","appear":"8s","duration":"5s"}`))
	// The failed first run alone would end the wait: a rerun that appears
	// later in the same poll window must win. Poll slowly enough to see both.
	res, err := Wait(context.Background(), c, p, Options{PollInterval: 10 * time.Second})
	if err != nil || res.Status != StatusSuccess || len(res.Workflows) != 1 {
		t.Fatalf("Wait = %s %+v, %v", res.Status, res.Workflows, err)
	}
}

func TestEveryPageIsRead(t *testing.T) {
	t.Parallel()
	var wfs []string
	for i := range 7 {
		status := "success"
		if i == 6 {
			status = "failed"
		}
		wfs = append(wfs, fmt.Sprintf(`{"name":"w%d","duration":"2s","status":%q}`, i, status))
	}
	sc := strings.Replace(scenario(strings.Join(wfs, ",")), `"projects"`, `"page_size":2,"projects"`, 1)
	_, c, p, _ := setup(t, sc)
	res, err := Wait(context.Background(), c, p, Options{})
	if len(res.Workflows) != 7 || !errors.As(err, new(*DownstreamError)) {
		t.Fatalf("saw %d workflows, err %v; want 7 and the failure on the last page", len(res.Workflows), err)
	}
}

func TestUnknownStatusIsLoggedOnce(t *testing.T) {
	t.Parallel()
	_, c, p, _ := setup(t, scenario(`{"name":"build","steps":[{"at":"0s","status":"x-new"},{"at":"1m","status":"success"}]}`))
	var l logs
	if _, err := Wait(context.Background(), c, p, l.opts(Options{})); err != nil {
		t.Fatal(err)
	}
	if n := l.count("unknown to this version"); n != 1 {
		t.Errorf("logged %d times, want once", n)
	}
}

func TestErroredPipeline(t *testing.T) {
	t.Parallel()
	sc := fmt.Sprintf(`{"tokens":[%q],"projects":[{"slug":"gh/acme/p","pipeline":{"errors":[{"type":"config","message":"Unexpected argument(s): nope"}]}}]}`, token)
	_, c, p, _ := setup(t, sc)
	res, err := Wait(context.Background(), c, p, Options{})
	var de *DownstreamError
	if !errors.As(err, &de) || de.Status != StatusErrored || res.Status != StatusErrored || !strings.Contains(err.Error(), "config: Unexpected argument(s): nope") {
		t.Fatalf("err = %v", err)
	}
}

func TestOnHoldPolicies(t *testing.T) {
	t.Parallel()
	wfs := `{"name":"build","duration":"5s"},{"name":"deploy","steps":[{"at":"0s","status":"on_hold"}],"jobs":[{"name":"approve","type":"approval","status":"on_hold"}]}`
	for _, tc := range []struct {
		policy string
		isErr  error
		status string
	}{
		{HoldWait, ErrTimeout, StatusTimedOut},
		{HoldSucceed, nil, StatusOnHold},
		{HoldFail, &DownstreamError{}, StatusOnHold},
	} {
		_, c, p, _ := setup(t, scenario(wfs))
		res, err := Wait(context.Background(), c, p, Options{OnHold: tc.policy, Timeout: 5 * time.Minute})
		var down *DownstreamError
		switch {
		case res.Status != tc.status,
			tc.isErr == nil && err != nil,
			tc.isErr == ErrTimeout && !errors.Is(err, ErrTimeout),
			tc.policy == HoldFail && (!errors.As(err, &down) || down.Status != StatusOnHold):
			t.Errorf("on-hold %s: %s, %v", tc.policy, res.Status, err)
		}
		if tc.policy != HoldWait && len(res.Jobs) != 1 {
			t.Errorf("on-hold %s: waiting jobs = %+v", tc.policy, res.Jobs)
		}
	}
}

// A fresh read that fails half-way still cancels what its first pages
// listed, though the caller knew of no workflow.
func TestCancelUsesThePagesItGot(t *testing.T) {
	t.Parallel()
	sc := scenario(`{"name":"a","duration":"1h"},{"name":"b","duration":"1h"},{"name":"c","duration":"1h"}`,
		`,"page_size":2,"faults":[{"method":"GET","path":"/pipeline/*/workflow","skip":1,"status":500}]`)
	s, c, p, clk := setup(t, sc)
	clk.Advance(10 * time.Second) // the workflows have started
	var l logs
	canceled := Cancel(context.Background(), c, p, nil, 0, l.opts(Options{}).Logf)
	if n := s.Count("POST", "/workflow/*/cancel"); n != 2 || len(canceled) != 2 {
		t.Errorf("%d cancels sent, %d reported; want the 2 workflows of the first page\n%s", n, len(canceled), strings.Join(l.lines, "\n"))
	}
	if len(l.lines) != 1 || !strings.Contains(l.lines[0], "canceling the 2 it saw running") {
		t.Errorf("logs:\n%s", strings.Join(l.lines, "\n"))
	}
}

// A workflow, once listed, never leaves the list: a read without it (here,
// a page emptied in place of the one that held it) is incomplete, and no
// verdict rests on it.
func TestAReadMissingAWorkflowIsIncomplete(t *testing.T) {
	t.Parallel()
	sc := scenario(`{"name":"c","duration":"2m"},{"name":"b","duration":"10s"},{"name":"a","duration":"10s","status":"failed"}`,
		`,"page_size":2,"faults":[{"method":"GET","path":"/pipeline/*/workflow","skip":13,"count":1,"endless":"empty"}]`)
	_, c, p, _ := setup(t, sc)
	var l logs
	res, err := Wait(context.Background(), c, p, l.opts(Options{}))
	if res.Status != StatusFailed || !strings.Contains(fmt.Sprint(err), "a failed") {
		t.Fatalf("Wait = %s, %v", res.Status, err)
	}
	if !slices.ContainsFunc(res.Workflows, func(w circleci.Workflow) bool { return w.Name == "c" && w.Status == "success" }) {
		t.Errorf("the verdict came before c ended: %+v\n%s", res.Workflows, strings.Join(l.lines, "\n"))
	}
	if !slices.ContainsFunc(l.lines, func(line string) bool { return strings.Contains(line, "listed before") }) {
		t.Errorf("the incomplete read went unnoticed:\n%s", strings.Join(l.lines, "\n"))
	}
}

// A workflow created while the cancels go out (continuation workflows do
// not all appear at once) is canceled too: after its cancels, Cancel reads
// the workflows again.
func TestCancelReadsAgainAfterItsCancels(t *testing.T) {
	t.Parallel()
	sc := scenario(`{"name":"a","duration":"1h"},{"name":"b","appear":"9702500us","duration":"1h"}`, `,"latency":"1ms"`)
	s, c, p, clk := setup(t, sc)
	clk.Advance(10 * time.Second) // a runs; b is listed 2.5ms from now (the pipeline was created at 300ms)
	canceled := Cancel(context.Background(), c, p, nil, 0, nil)
	if n := s.Count("POST", "/workflow/*/cancel"); n != 2 || len(canceled) != 2 {
		t.Errorf("%d cancels, %d reported; want a and b", n, len(canceled))
	}
}

// While every fresh read fails, Cancel keeps looking for the whole grace:
// a workflow listed by the first read that works, late in it, is canceled
// too (fault-schedule seed 404637).
func TestCancelLooksForItsWholeGrace(t *testing.T) {
	t.Parallel()
	sc := scenario(`{"name":"a","duration":"1h"},{"name":"b","appear":"13500ms","duration":"1h"}`,
		`,"faults":[{"method":"GET","path":"/pipeline/*/workflow","skip":1,"count":5,"status":504}]`)
	s, c, p, clk := setup(t, sc)
	clk.Advance(10 * time.Second) // a runs; b is listed 3.5s from now
	known, err := c.Workflows(context.Background(), p.ID)
	if err != nil || len(known) != 1 {
		t.Fatalf("Workflows = %v, %v", known, err)
	}
	canceled := Cancel(context.Background(), c, p, known, 0, nil)
	if n := s.Count("POST", "/workflow/*/cancel"); n != 2 || len(canceled) != 2 {
		t.Errorf("%d cancels, %d reported; want a and b", n, len(canceled))
	}
}

// A workflow the cancels never saw (every read of Cancel failed while it
// appeared) but the last look lists running is canceled then, and shown
// as CircleCI has it after that (fault-schedule seed 424341).
func TestCancelAfterTheLastLook(t *testing.T) {
	t.Parallel()
	// From the timeout on, the poll at the deadline and the seven reads of
	// Cancel's 5s fail; b is listed 2s into them.
	sc := scenario(`{"name":"a","duration":"1h"},{"name":"b","appear":"12s","duration":"1h"}`,
		`,"faults":[{"method":"GET","path":"/pipeline/*/workflow","from":"10s","count":8,"status":504}]`)
	s, c, p, _ := setup(t, sc)
	var l logs
	res, err := Wait(context.Background(), c, p, l.opts(Options{Timeout: 10 * time.Second, CancelOnExit: true}))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait = %v", err)
	}
	if n := s.Count("POST", "/workflow/*/cancel"); n != 2 || len(res.Canceled) != 2 {
		t.Errorf("%d cancels, %d reported; want a and b\n%s", n, len(res.Canceled), strings.Join(l.lines, "\n"))
	}
	for _, wf := range res.Workflows {
		if wf.Status != "canceled" {
			t.Errorf("%s is %s; want canceled", wf.Name, wf.Status)
		}
	}
}
