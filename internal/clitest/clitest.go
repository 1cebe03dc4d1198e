// Package clitest runs the circleci-trigger command against the simulator
// the way each surface runs it (a shell, a GitHub runner, a CircleCI job),
// for the command's tests: in-process, through cli.Command inside a
// testing/synctest bubble (virtual time: minutes of waiting take
// milliseconds, and a run goes the same way every time), or as the built
// binary in a real process (signals, shells).
package clitest

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/cli"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

// Binary is the built circleci-trigger, for runs in a real process; a
// TestMain sets it (simtest.MainWithBinary).
var Binary string

// Token is the obviously fake token the world accepts.
const Token = "fake-token-3f9c2a71-not-real"

// World is the scenario most tests share: each project behaves one way.
// Tests that need more change a copy of it.
func World() *circlecitest.Scenario { return circlecitest.MustParse(WorldJSON) }

// WithFaults is the world with faults injected.
func WithFaults(faults ...circlecitest.Fault) *circlecitest.Scenario {
	sc := World()
	sc.Faults = faults
	return sc
}

// WorldJSON is the world as a scenario file, the way users write theirs.
const WorldJSON = `{
  "tokens": ["fake-token-3f9c2a71-not-real"],
  "projects": [
    {"slug": "gh/acme/api", "branches": ["main", "feature/*", "pull/*"], "tags": ["v*"],
     "parameters": {"deploy": "boolean", "env": "string", "replicas": "integer"},
     "definitions": ["2338d0ae-5541-4bbf-88a2-55e9f7281f80"],
     "pipeline": {"workflows": [
       {"name": "build", "duration": "4s", "jobs": [{"name": "compile", "status": "success"}]},
       {"name": "lint", "duration": "2s"}]}},
    {"slug": "gh/acme/strict", "undeclared": "reject", "parameters": {"deploy": "boolean"},
     "pipeline": {"workflows": [{"name": "build", "duration": "2s"}]}},
    {"slug": "gh/acme/failing", "pipeline": {"workflows": [
       {"name": "ok", "duration": "3s"},
       {"name": "tests", "steps": [{"at": "0ms", "status": "running"}, {"at": "2s", "status": "failing"}, {"at": "30s", "status": "failed"}],
        "jobs": [{"name": "unit", "status": "success"}, {"name": "e2e", "status": "failed"}]}]}},
    {"slug": "gh/acme/held", "pipeline": {"workflows": [
       {"name": "build", "duration": "200ms"},
       {"name": "deploy", "steps": [{"at": "0ms", "status": "on_hold"}], "jobs": [{"name": "approve", "type": "approval", "status": "on_hold"}]}]}},
    {"slug": "gh/acme/skipped", "pipeline": {"workflows": [{"name": "nightly", "duration": "1s", "status": "not_run"}, {"name": "build", "duration": "2s"}]}},
    {"slug": "gh/acme/canceled", "pipeline": {"workflows": [{"name": "build", "duration": "3s", "status": "canceled"}]}},
    {"slug": "gh/acme/errored", "pipeline": {"errors": [{"type": "config", "message": "Unexpected argument(s): foo"}]}},
    {"slug": "gh/acme/dynamic", "pipeline": {"workflows": [
       {"name": "setup", "tag": "setup", "duration": "3s"},
       {"name": "deploy", "appear": "2s", "duration": "3s", "status": "failed", "jobs": [{"name": "apply", "status": "failed"}]}]}},
    {"slug": "gh/acme/empty", "pipeline": {}},
    {"slug": "gh/acme/rerun", "pipeline": {"workflows": [
       {"name": "build", "duration": "700ms", "status": "failed"},
       {"name": "build", "appear": "1s", "duration": "10s"}]}},
    {"slug": "gh/acme/slow", "pipeline": {"workflows": [{"name": "build", "duration": "1h"}, {"name": "docs", "duration": "100ms"}]}},
    {"slug": "gh/acme/many", "pipeline": {"workflows": [
       {"name": "w1", "duration": "1s"}, {"name": "w2", "duration": "1s"}, {"name": "w3", "duration": "1s"},
       {"name": "w4", "duration": "1s"}, {"name": "w5", "duration": "3s", "status": "failed"}]}},
    {"slug": "gh/acme/web", "pipeline": {"workflows": [{"name": "build", "duration": "3s"}]}},
    {"slug": "gh/acme/mobile", "pipeline": {"workflows": [{"name": "build", "duration": "3s"}]}},
    {"slug": "circleci/Org1/Proj1", "definitions": ["11111111-2222-4333-8444-555555555555"], "not_created": "Ignoring pipeline due to CI skip in the commit"}
  ]
}`

// Result is what a run did: its exit code, streams and GitHub files, and
// the simulator it ran against.
type Result struct {
	Code           int
	Stdout, Stderr string
	Outputs        map[string]string // the GitHub outputs written
	Summary        string            // the job summary written
	Sim            *circlecitest.Simulator
	Elapsed        time.Duration // in-process: virtual time
	Host           string        // the simulator's address
}

// Process is how a run is started: CLI, GitHub Actions or CircleCI, and
// what a test does meanwhile.
type Process struct {
	T           *testing.T
	Scenario    *circlecitest.Scenario
	Env         map[string]string
	Args        []string
	Shell       string                                   // set: run this script with bash instead of the binary
	Signal      func(*exec.Cmd, *circlecitest.Simulator) // optional: act while it runs
	RealProcess bool                                     // run the built binary, on the real clock
	Transport   http.RoundTripper                        // in-process: nil, or one that fails as a network would
	Prepare     func(*circlecitest.Simulator)            // in-process: set the simulator up, e.g. add to args
	Interrupt   int                                      // in-process: interrupt the run as this request arrives (1: the first)
	InterruptOn func(circlecitest.Request) bool          // in-process: interrupt the run as a request it says yes to arrives
	Advance     time.Duration                            // in-process: let this much time pass before the run
}

// Cmdline runs the command as a shell does, with CIRCLE_TOKEN set.
func Cmdline(t *testing.T, args ...string) *Process {
	return &Process{T: t, Scenario: World(), Env: map[string]string{"CIRCLE_TOKEN": Token}, Args: args}
}

// GitHub runs the command as action.yml runs it: inputs as INPUT_*, the
// GitHub environment, output and summary files.
func GitHub(t *testing.T, inputs map[string]string) *Process {
	p := &Process{T: t, Scenario: World(), Env: map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/api", "GITHUB_REF": "refs/heads/main",
		"GITHUB_EVENT_NAME": "push", "INPUT_TOKEN": Token, "CIRCLECI_TRIGGER_SURFACE": "action",
	}}
	for k, v := range inputs {
		p.Env["INPUT_"+strings.ToUpper(k)] = v
	}
	return p
}

// With sets environment variables, in pairs.
func (p *Process) With(kv ...string) *Process {
	for i := 0; i < len(kv); i += 2 {
		p.Env[kv[i]] = kv[i+1]
	}
	return p
}

// Real makes the run use the built binary as a real process.
func (p *Process) Real() *Process {
	p.RealProcess = true
	return p
}

// Run runs the command, in-process unless it needs a real process.
func (p *Process) Run() Result {
	p.T.Helper()
	if p.RealProcess || p.Shell != "" || p.Signal != nil {
		return p.runProcess()
	}
	return p.runInProcess()
}

// files are the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY of a GitHub run.
func (p *Process) files(dir string) map[string]string {
	if p.Env["GITHUB_ACTIONS"] != "true" || p.Env["NO_FILES"] != "" {
		return nil
	}
	return map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
}

// runInProcess runs the command in-process inside a testing/synctest
// bubble, talking to the simulator in memory: time is virtual for the
// command, its fan-out and the simulator alike, and moves on only when all
// of them wait, so minutes of waiting take milliseconds and a run goes the
// same way every time.
func (p *Process) runInProcess() Result {
	t := p.T
	t.Helper()
	dir := t.TempDir()
	var r Result
	synctest.Test(t, func(*testing.T) {
		s := circlecitest.NewSimulator(p.Scenario, nil)
		defer s.Close()
		if p.Prepare != nil {
			p.Prepare(s)
		}
		time.Sleep(p.Advance)
		const host = "http://127.0.0.1:1" // never dialled
		env := map[string]string{"CIRCLE_HOST": host}
		maps.Copy(env, p.files(dir))
		maps.Copy(env, p.Env)
		transport := p.Transport
		if transport == nil {
			transport = s.Transport()
		}
		var stdout, stderr bytes.Buffer
		cmd := &cli.Command{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr, Version: "test",
			Transport: transport}
		ctx, interrupt := context.WithCancel(context.Background())
		defer interrupt()
		var n atomic.Int32
		s.Observe(func(q circlecitest.Request) {
			nth := n.Add(1) == int32(p.Interrupt)
			if nth || (p.InterruptOn != nil && p.InterruptOn(q)) {
				interrupt() // as a SIGTERM would
			}
		})
		start := time.Now()
		code := cmd.Run(ctx, p.Args)
		r = p.result(dir, s, int(code), stdout.String(), stderr.String())
		r.Elapsed, r.Host = time.Since(start), host
	})
	return r
}

func (p *Process) runProcess() Result {
	t := p.T
	t.Helper()
	s, host := simtest.Start(t, p.Scenario, nil)
	dir := t.TempDir()
	env := []string{"CIRCLE_HOST=" + host}
	if _, ok := p.Env["PATH"]; !ok {
		env = append(env, "PATH="+os.Getenv("PATH"))
	}
	for k, v := range p.files(dir) {
		env = append(env, k+"="+v)
	}
	for k, v := range p.Env {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(Binary, p.Args...)
	if p.Shell != "" {
		cmd = exec.Command("/bin/bash", "-eo", "pipefail", "-c", p.Shell)
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if p.Signal != nil {
		p.Signal(cmd, s)
	}
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return p.result(dir, s, code, stdout.String(), stderr.String())
}

func (p *Process) result(dir string, s *circlecitest.Simulator, code int, stdout, stderr string) Result {
	r := Result{Code: code, Stdout: stdout, Stderr: stderr, Sim: s, Outputs: map[string]string{}}
	if b, err := os.ReadFile(filepath.Join(dir, "output")); err == nil {
		r.Outputs = ParseOutputs(p.T, string(b))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "summary")); err == nil {
		r.Summary = string(b)
	}
	return r
}

// ParseOutputs reads the GITHUB_OUTPUT file format: name<<DELIM, value
// lines, DELIM.
func ParseOutputs(t *testing.T, s string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("output %s has no closing delimiter", name)
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

// Requests are the requests the simulator received whose method and path
// match (see circlecitest.Simulator.Matching).
func (r Result) Requests(method, pathGlob string) []circlecitest.Request {
	return r.Sim.Matching(method, pathGlob)
}

// Expect checks the exit code, and that stdout or stderr has each want.
func (r Result) Expect(t *testing.T, code int, wantOut ...string) {
	t.Helper()
	if r.Code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.Code, code, r.Stdout, r.Stderr)
	}
	all := r.Stdout + r.Stderr
	for _, w := range wantOut {
		if !strings.Contains(all, w) {
			t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, r.Stdout, r.Stderr)
		}
	}
}

// Body is a request's JSON body.
func Body(t *testing.T, q circlecitest.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(q.Body, &m); err != nil {
		t.Fatalf("body %s: %v", q.Body, err)
	}
	return m
}

// JSONOf is v as compact JSON (keys sorted).
func JSONOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Fast waits and polls fast: every second, at most 5s apart.
var Fast = []string{"--wait", "--poll-interval", "1s", "--max-poll-interval", "5s"}

// SlowWorld is the world with a project whose three workflows run for an
// hour, and faults.
func SlowWorld(faults ...circlecitest.Fault) *circlecitest.Scenario {
	sc := WithFaults(faults...)
	sc.Projects = append(sc.Projects, circlecitest.Project{Slug: "gh/acme/long", Pipeline: circlecitest.Timeline{Workflows: []circlecitest.WorkflowSpec{
		{Name: "a", Duration: circlecitest.Duration(time.Hour)}, {Name: "b", Duration: circlecitest.Duration(time.Hour)}, {Name: "c", Duration: circlecitest.Duration(time.Hour)}}}})
	return sc
}

// CanceledAll checks that an interrupted run of SlowWorld's project
// canceled its three workflows: n cancels accepted, each reported.
func CanceledAll(t *testing.T, r Result, n int) {
	t.Helper()
	r.Expect(t, 6, "interrupted", "canceled workflow a", "canceled workflow b", "canceled workflow c")
	ok := 0
	for _, q := range r.Requests("POST", "/workflow/*/cancel") {
		if q.Status == 202 {
			ok++
		}
	}
	if ok != n {
		t.Errorf("%d cancels accepted, want %d:\n%s", ok, n, r.Stderr)
	}
}
