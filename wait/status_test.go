package wait

import (
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

func wf(name, status string) circleci.Workflow {
	return circleci.Workflow{ID: name + "-id", Name: name, Status: status}
}

// One table over every workflow status (and an unknown one), under each policy.
func TestClassifyEveryStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status                string
		plain, failFast       class
		holdSucceed, holdFail class
	}{
		{"success", passed, passed, passed, passed},
		{"not_run", passed, passed, passed, passed},
		{"failed", failed, failed, failed, failed},
		{"error", failed, failed, failed, failed},
		{"unauthorized", failed, failed, failed, failed},
		{"canceled", canceled, canceled, canceled, canceled},
		{"running", running, running, running, running},
		{"queued", running, running, running, running},
		{"failing", running, failed, running, running},
		{"on_hold", running, running, held, held},
		{"something_new", running, running, running, running},
	} {
		for _, p := range []struct {
			pol  policy
			want class
		}{
			{policy{onHold: HoldWait}, tc.plain},
			{policy{onHold: HoldWait, failFast: true}, tc.failFast},
			{policy{onHold: HoldSucceed}, tc.holdSucceed},
			{policy{onHold: HoldFail}, tc.holdFail},
		} {
			if got := classify(tc.status, p.pol); got != p.want {
				t.Errorf("classify(%q, %+v) = %d, want %d", tc.status, p.pol, got, p.want)
			}
		}
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	setup := wf("setup", "success")
	setup.Tag = "setup"
	setupFailed := wf("setup", "failed")
	setupFailed.Tag = "setup"
	for _, tc := range []struct {
		name    string
		state   string
		wfs     []circleci.Workflow
		settled bool
		pol     policy
		want    verdict
	}{
		{"pending, nothing yet", "pending", nil, true, policy{}, verdict{}},
		{"created, list still empty", "created", nil, false, policy{}, verdict{}},
		{"created, no workflow for good", "created", nil, true, policy{}, verdict{done: true, status: StatusNoWorkflows, nothing: true}},
		{"all success", "created", []circleci.Workflow{wf("a", "success"), wf("b", "not_run")}, false, policy{}, verdict{done: true, status: StatusSuccess}},
		{"one of several failed", "created", []circleci.Workflow{wf("a", "success"), wf("b", "failed")}, false, policy{}, verdict{done: true, status: StatusFailed}},
		{"failed but another runs", "created", []circleci.Workflow{wf("a", "running"), wf("b", "failed")}, false, policy{}, verdict{}},
		{"failed, fail-fast", "created", []circleci.Workflow{wf("a", "running"), wf("b", "failed")}, false, policy{failFast: true}, verdict{done: true, status: StatusFailed}},
		{"failing", "created", []circleci.Workflow{wf("a", "failing")}, false, policy{}, verdict{}},
		{"failing, fail-fast", "created", []circleci.Workflow{wf("a", "failing")}, false, policy{failFast: true}, verdict{done: true, status: StatusFailed}},
		{"canceled", "created", []circleci.Workflow{wf("a", "success"), wf("b", "canceled")}, false, policy{}, verdict{done: true, status: StatusCanceled}},
		{"failed beats canceled", "created", []circleci.Workflow{wf("a", "failed"), wf("b", "canceled")}, false, policy{}, verdict{done: true, status: StatusFailed}},
		{"on hold, wait", "created", []circleci.Workflow{wf("a", "on_hold")}, true, policy{onHold: HoldWait}, verdict{}},
		{"on hold, succeed", "created", []circleci.Workflow{wf("a", "success"), wf("b", "on_hold")}, false, policy{onHold: HoldSucceed}, verdict{done: true, status: StatusOnHold}},
		{"on hold, fail", "created", []circleci.Workflow{wf("b", "on_hold")}, false, policy{onHold: HoldFail}, verdict{done: true, status: StatusOnHold}},
		{"unknown status waits", "created", []circleci.Workflow{wf("a", "x-new")}, true, policy{}, verdict{}},
		{"errored", "errored", nil, false, policy{}, verdict{done: true, status: StatusErrored}},
		{"setup done, continuation may come", "created", []circleci.Workflow{setup}, false, policy{}, verdict{}},
		{"setup done, pipeline still setup", "setup", []circleci.Workflow{setup}, true, policy{}, verdict{}},
		{"setup done, nothing came", "created", []circleci.Workflow{setup}, true, policy{}, verdict{done: true, status: StatusNoWorkflows, nothing: true}},
		{"setup done, continuation failed", "created", []circleci.Workflow{setup, wf("deploy", "failed")}, false, policy{}, verdict{done: true, status: StatusFailed}},
		{"setup failed, state stuck", "setup", []circleci.Workflow{setupFailed}, true, policy{}, verdict{done: true, status: StatusFailed, nothing: true}},
		{"setup failed, not settled", "setup", []circleci.Workflow{setupFailed}, false, policy{}, verdict{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decide(sight{state: tc.state, workflows: tc.wfs, settled: tc.settled}, tc.pol); got != tc.want {
				t.Errorf("decide(%s, %v, settled=%v, %+v) = %+v, want %+v", tc.state, tc.wfs, tc.settled, tc.pol, got, tc.want)
			}
		})
	}
}

// A run CircleCI reruns by itself is not finished, and not yet a failure
// for fail-fast; a pipeline that ran nothing and has errors failed.
func TestDecideAutoRerunsAndErrors(t *testing.T) {
	t.Parallel()
	rerun := map[string]bool{"b-id": true}
	for _, tc := range []struct {
		name string
		see  sight
		pol  policy
		want verdict
	}{
		{"failed, rerun due", sight{state: "created", workflows: []circleci.Workflow{wf("a", "success"), wf("b", "failed")}, reruns: rerun}, policy{}, verdict{}},
		{"error, rerun due", sight{state: "created", workflows: []circleci.Workflow{wf("b", "error")}, reruns: rerun}, policy{}, verdict{}},
		{"failed, rerun due, fail-fast", sight{state: "created", workflows: []circleci.Workflow{wf("b", "failed")}, reruns: rerun}, policy{failFast: true}, verdict{}},
		{"failing, reruns left, fail-fast", sight{state: "created", workflows: []circleci.Workflow{wf("b", "failing")}, reruns: rerun}, policy{failFast: true}, verdict{}},
		{"failed, no rerun due", sight{state: "created", workflows: []circleci.Workflow{wf("a", "success"), wf("b", "failed")}, reruns: map[string]bool{"a-id": true}}, policy{}, verdict{done: true, status: StatusFailed}},
		{"created, errors, nothing ran", sight{state: "created", errors: true, settled: true}, policy{}, verdict{done: true, status: StatusErrored, nothing: true}},
		{"created, errors, not settled", sight{state: "created", errors: true}, policy{}, verdict{}},
		{"pending, errors, nothing ran", sight{state: "pending", errors: true, settled: true}, policy{}, verdict{done: true, status: StatusErrored, nothing: true}},
		{"errors beside a success", sight{state: "created", errors: true, workflows: []circleci.Workflow{wf("a", "success")}}, policy{}, verdict{done: true, status: StatusSuccess}},
	} {
		if got := decide(tc.see, tc.pol); got != tc.want {
			t.Errorf("%s: decide = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestLatestTakesTheRerun(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := circleci.Workflow{ID: "1", Name: "build", Status: "failed", CreatedAt: t0, StoppedAt: t0.Add(time.Minute)}
	rerun := circleci.Workflow{ID: "2", Name: "build", Status: "success", CreatedAt: t0.Add(2 * time.Minute)}
	other := circleci.Workflow{ID: "3", Name: "lint", Status: "success", CreatedAt: t0}
	for _, in := range [][]circleci.Workflow{{old, rerun, other}, {rerun, other, old}} {
		got, earlier := latest(in)
		if len(got) != 2 || got[0].ID != "3" || got[1].ID != "2" {
			t.Errorf("latest(%v) = %v, want lint then the rerun", in, got)
		}
		if e := earlier["build"]; len(e) != 1 || e[0].ID != "1" || len(earlier) != 1 {
			t.Errorf("earlier runs = %v, want the first build", earlier)
		}
	}
	// Same second: the one still running is the rerun.
	sameSecond := circleci.Workflow{ID: "4", Name: "build", Status: "running", CreatedAt: t0}
	if got, _ := latest([]circleci.Workflow{sameSecond, old}); got[0].ID != "4" {
		t.Errorf("same-second rerun: %v", got)
	}
	// Same second, both stopped: the automatic rerun is the newer.
	auto := circleci.Workflow{ID: "5", Name: "build", Status: "success", CreatedAt: t0, StoppedAt: t0.Add(time.Minute), AutoRerunNumber: 1}
	for _, in := range [][]circleci.Workflow{{auto, old}, {old, auto}} {
		if got, _ := latest(in); got[0].ID != "5" {
			t.Errorf("latest(%v) = %v, want the automatic rerun", in, got)
		}
	}
}

// Workflows created within one second are in name order, whatever their
// milliseconds: a table reads the same on every run.
func TestLatestOrdersASecondByName(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lint := circleci.Workflow{ID: "1", Name: "lint", CreatedAt: t0.Add(100 * time.Millisecond)}
	build := circleci.Workflow{ID: "2", Name: "build", CreatedAt: t0.Add(900 * time.Millisecond)}
	setup := circleci.Workflow{ID: "3", Name: "setup", CreatedAt: t0.Add(-time.Second)}
	for _, in := range [][]circleci.Workflow{{lint, build, setup}, {build, setup, lint}} {
		if got, _ := latest(in); len(got) != 3 || got[0].Name != "setup" || got[1].Name != "build" || got[2].Name != "lint" {
			t.Errorf("latest(%v) = %v, want setup, build, lint", in, got)
		}
	}
}
