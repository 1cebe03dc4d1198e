package main

// Command-level tests against the simulator: the command runs in-process
// through cli.Command with the environment a GitHub runner, a CircleCI job
// or a shell gives it, on a fake clock shared with the simulator, so that
// minutes of waiting take milliseconds. A few tests per surface run the
// built binary as a real process (signals, the orb's script, a plain run).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/cli"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

var binary string

func TestMain(m *testing.M) { simtest.MainWithBinary(m, ".", &binary) }

const token = "fake-token-3f9c2a71-not-real"

// world is the scenario most tests share: each project behaves one way.
// Tests that need more change a copy of it.
func world() *circlecitest.Scenario { return circlecitest.MustParse(worldJSON) }

// withFaults is the world with faults injected.
func withFaults(faults ...circlecitest.Fault) *circlecitest.Scenario {
	sc := world()
	sc.Faults = faults
	return sc
}

// worldJSON is the world as a scenario file, the way users write theirs.
const worldJSON = `{
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

type result struct {
	code           int
	stdout, stderr string
	outputs        map[string]string
	summary        string
	sim            *circlecitest.Simulator
	elapsed        time.Duration // in-process: time on the fake clock
	host           string        // the simulator's address
}

// runner is how a process is started: CLI, GitHub Actions or CircleCI.
type process struct {
	t           *testing.T
	scenario    *circlecitest.Scenario
	env         map[string]string
	args        []string
	shell       string                                   // set: run this script with bash instead of the binary
	signal      func(*exec.Cmd, *circlecitest.Simulator) // optional: act while it runs
	process     bool                                     // run the built binary, on the real clock
	transport   http.RoundTripper                        // in-process: nil, or one that fails as a network would
	prepare     func(*circlecitest.Simulator)            // in-process: set the simulator up, e.g. add to args
	interrupt   int                                      // in-process: interrupt the run as this request arrives (1: the first)
	interruptOn func(circlecitest.Request) bool          // in-process: interrupt the run as a request it says yes to arrives
	advance     time.Duration                            // in-process: let this much time pass before the run
}

func cmdline(t *testing.T, args ...string) *process {
	return &process{t: t, scenario: world(), env: map[string]string{"CIRCLE_TOKEN": token}, args: args}
}

// github runs the command as action.yml runs it: inputs as INPUT_*, the
// GitHub environment, output and summary files.
func github(t *testing.T, inputs map[string]string) *process {
	p := &process{t: t, scenario: world(), env: map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/api", "GITHUB_REF": "refs/heads/main",
		"GITHUB_EVENT_NAME": "push", "INPUT_TOKEN": token, "CIRCLECI_TRIGGER_SURFACE": "action",
	}}
	for k, v := range inputs {
		p.env["INPUT_"+strings.ToUpper(k)] = v
	}
	return p
}

func (p *process) with(kv ...string) *process {
	for i := 0; i < len(kv); i += 2 {
		p.env[kv[i]] = kv[i+1]
	}
	return p
}

// real makes the run use the built binary as a real process.
func (p *process) real() *process {
	p.process = true
	return p
}

func (p *process) run() result {
	p.t.Helper()
	if p.process || p.shell != "" || p.signal != nil {
		return p.runProcess()
	}
	return p.runInProcess()
}

// files are the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY of a GitHub run.
func (p *process) files(dir string) map[string]string {
	if p.env["GITHUB_ACTIONS"] != "true" || p.env["NO_FILES"] != "" {
		return nil
	}
	return map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
}

// runInProcess runs the command in-process inside a testing/synctest
// bubble, talking to the simulator in memory: time is virtual for the
// command, its fan-out and the simulator alike, and moves on only when all
// of them wait, so minutes of waiting take milliseconds and a run goes the
// same way every time.
func (p *process) runInProcess() result {
	t := p.t
	t.Helper()
	dir := t.TempDir()
	var r result
	synctest.Test(t, func(*testing.T) {
		s := circlecitest.NewSimulator(p.scenario, nil)
		defer s.Close()
		if p.prepare != nil {
			p.prepare(s)
		}
		time.Sleep(p.advance)
		const host = "http://127.0.0.1:1" // never dialled
		env := map[string]string{"CIRCLE_HOST": host}
		maps.Copy(env, p.files(dir))
		maps.Copy(env, p.env)
		transport := p.transport
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
			nth := n.Add(1) == int32(p.interrupt)
			if nth || (p.interruptOn != nil && p.interruptOn(q)) {
				interrupt() // as a SIGTERM would
			}
		})
		start := time.Now()
		code := cmd.Run(ctx, p.args)
		r = p.result(dir, s, int(code), stdout.String(), stderr.String())
		r.elapsed, r.host = time.Since(start), host
	})
	return r
}

func (p *process) runProcess() result {
	t := p.t
	t.Helper()
	s, host := simtest.Start(t, p.scenario, nil)
	dir := t.TempDir()
	env := []string{"CIRCLE_HOST=" + host}
	if _, ok := p.env["PATH"]; !ok {
		env = append(env, "PATH="+os.Getenv("PATH"))
	}
	for k, v := range p.files(dir) {
		env = append(env, k+"="+v)
	}
	for k, v := range p.env {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(binary, p.args...)
	if p.shell != "" {
		cmd = exec.Command("/bin/bash", "-eo", "pipefail", "-c", p.shell)
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if p.signal != nil {
		p.signal(cmd, s)
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

func (p *process) result(dir string, s *circlecitest.Simulator, code int, stdout, stderr string) result {
	r := result{code: code, stdout: stdout, stderr: stderr, sim: s, outputs: map[string]string{}}
	if b, err := os.ReadFile(filepath.Join(dir, "output")); err == nil {
		r.outputs = parseOutputs(p.t, string(b))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "summary")); err == nil {
		r.summary = string(b)
	}
	return r
}

// parseOutputs reads the GITHUB_OUTPUT file format: name<<DELIM, value
// lines, DELIM.
func parseOutputs(t *testing.T, s string) map[string]string {
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

func (r result) requests(method, pathGlob string) []circlecitest.Request {
	return r.sim.Matching(method, pathGlob)
}

func (r result) expect(t *testing.T, code int, wantOut ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	all := r.stdout + r.stderr
	for _, w := range wantOut {
		if !strings.Contains(all, w) {
			t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
		}
	}
}

func body(t *testing.T, q circlecitest.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(q.Body, &m); err != nil {
		t.Fatalf("body %s: %v", q.Body, err)
	}
	return m
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// ---- triggering (issue: trigger)

func TestTriggerByBranchWithTypedParameters(t *testing.T) {
	t.Parallel()
	r := cmdline(t, "--project-slug", "gh/acme/api", "--branch", "feature/x", "--parameters", `{"deploy": true, "env": "prod", "replicas": 3}`).run()
	r.expect(t, 0, "Pipeline #1 of gh/acme/api on branch feature/x triggered: http://127.0.0.1:", "/pipelines/github/acme/api/1")
	posts := r.requests("POST", "/project/gh/acme/api/pipeline")
	if len(posts) != 1 {
		t.Fatalf("%d POSTs", len(posts))
	}
	q := posts[0]
	if got, want := jsonOf(body(t, q)), `{"branch":"feature/x","parameters":{"deploy":true,"env":"prod","replicas":3}}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if q.ContentType != "application/json" || q.Accept != "application/json" || !strings.HasPrefix(q.UserAgent, "circleci-trigger/") || q.Auth != "circle-token" {
		t.Errorf("headers: %+v", q)
	}
	if len(r.sim.Requests()) != 1 {
		t.Errorf("without wait, %d requests, want the trigger only", len(r.sim.Requests()))
	}
}

func TestTriggerByTag(t *testing.T) {
	t.Parallel()
	r := cmdline(t, "--project-slug", "gh/acme/api", "--tag", "v1.2.0").run()
	r.expect(t, 0, "on tag v1.2.0")
	if got := jsonOf(body(t, r.requests("POST", "/project/*/pipeline")[0])); got != `{"tag":"v1.2.0"}` {
		t.Errorf("body = %s", got)
	}
}

func TestTriggerThroughPipelineRun(t *testing.T) {
	t.Parallel()
	r := cmdline(t, "--project-slug", "github/acme/api", "--branch", "main", "--definition-id", "2338d0ae-5541-4bbf-88a2-55e9f7281f80", "--parameters", `{"deploy":false}`).run()
	r.expect(t, 0, "Pipeline #1")
	q := r.requests("POST", "/project/*/pipeline/run")
	if len(q) != 1 || q[0].Path != "/project/gh/acme/api/pipeline/run" {
		t.Fatalf("requests: %+v", r.sim.Requests())
	}
	want := `{"checkout":{"branch":"main"},"config":{"branch":"main"},"definition_id":"2338d0ae-5541-4bbf-88a2-55e9f7281f80","parameters":{"deploy":false}}`
	if got := jsonOf(body(t, q[0])); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestPipelineRunThatCreatesNothing(t *testing.T) {
	t.Parallel()
	r := cmdline(t, "--project-slug", "circleci/Org1/Proj1", "--definition-id", "11111111-2222-4333-8444-555555555555", "--wait", "--json").run()
	r.expect(t, 0, "Ignoring pipeline due to CI skip in the commit")
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out["status"] != "not-created" || out["id"] != "" {
		t.Errorf("json = %s (%v)", r.stdout, err)
	}
	if len(r.sim.Requests()) != 1 {
		t.Errorf("%d requests: nothing to wait for", len(r.sim.Requests()))
	}
}

func TestGitHubAction(t *testing.T) {
	t.Parallel()
	r := github(t, map[string]string{"parameters": `{"deploy": true}`}).with("GITHUB_REF", "refs/heads/feature/y").run()
	r.expect(t, 0)
	if !strings.HasPrefix(r.stdout, "::add-mask::"+token+"\n") {
		t.Errorf("the token is not masked first:\n%s", r.stdout)
	}
	if got := jsonOf(body(t, r.requests("POST", "/project/gh/acme/api/pipeline")[0])); got != `{"branch":"feature/y","parameters":{"deploy":true}}` {
		t.Errorf("body = %s", got)
	}
	o := r.outputs
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(o["id"]) || o["number"] != "1" || o["state"] != "pending" || o["status"] != "triggered" ||
		!strings.HasSuffix(o["url"], "/pipelines/github/acme/api/1") || o["created_at"] == "" || o["workflows"] != "[]" {
		t.Errorf("outputs = %v", o)
	}
}

// Outside a runner's step (no GITHUB_OUTPUT, no GITHUB_STEP_SUMMARY), the
// Action mode must still work, not panic.
func TestGitHubWithoutOutputFiles(t *testing.T) {
	t.Parallel()
	r := github(t, map[string]string{"wait": "true", "poll-interval": "1s"}).with("NO_FILES", "1").run()
	r.expect(t, 0, "Pipeline #1 of gh/acme/api")
	if strings.Contains(r.stderr, "panic") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestGitHubPullRequestFromAFork(t *testing.T) {
	t.Parallel()
	ev := filepath.Join(t.TempDir(), "event.json")
	os.WriteFile(ev, []byte(`{"pull_request":{"head":{"repo":{"full_name":"someone/api"}},"base":{"repo":{"full_name":"acme/api"}}}}`), 0o600)
	r := github(t, nil).with("GITHUB_EVENT_NAME", "pull_request", "GITHUB_REF", "refs/pull/42/merge", "GITHUB_HEAD_REF", "patch-1", "GITHUB_EVENT_PATH", ev).run()
	r.expect(t, 0)
	if got := jsonOf(body(t, r.requests("POST", "/project/*/pipeline")[0])); got != `{"branch":"pull/42/head"}` {
		t.Errorf("body = %s", got)
	}
}

func TestCircleCIEnvironment(t *testing.T) {
	t.Parallel()
	r := cmdline(t).with("CIRCLECI", "true", "CIRCLE_PROJECT_USERNAME", "acme", "CIRCLE_PROJECT_REPONAME", "api",
		"CIRCLE_REPOSITORY_URL", "git@github.com:acme/api.git", "CIRCLE_BRANCH", "feature/z", "CIRCLECI_TRIGGER_PARAMETERS", `{"env":"staging"}`).run()
	r.expect(t, 0, "on branch feature/z")
	if got := jsonOf(body(t, r.requests("POST", "/project/gh/acme/api/pipeline")[0])); got != `{"branch":"feature/z","parameters":{"env":"staging"}}` {
		t.Errorf("body = %s", got)
	}
}

func TestJSONOutput(t *testing.T) {
	t.Parallel()
	r := cmdline(t, "--project-slug", "gh/acme/api", "--wait", "--poll-interval", "1s", "--json").run()
	r.expect(t, 0)
	var out struct {
		ID, State, Status, URL string
		Number                 int
		Workflows              []struct{ Name, ID, Status, URL string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	if out.Number != 1 || out.Status != "success" || out.State != "created" || len(out.Workflows) != 2 || out.Workflows[0].Status != "success" || !strings.Contains(out.Workflows[1].URL, "/workflows/"+out.Workflows[1].ID) {
		t.Errorf("json = %+v", out)
	}
	if !strings.Contains(r.stderr, "WORKFLOW") {
		t.Errorf("the table should go to stderr with --json:\n%s", r.stderr)
	}
}

// Every bad input: exit 2, a one-line message saying what to fix, and
// nothing sent.
func TestBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    func(*testing.T) *process
		want string
	}{
		{"slug", func(t *testing.T) *process { return cmdline(t, "--project-slug", "gitlab/a/b") }, "must start with gh/"},
		{"branch and tag", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api", "--branch", "a", "--tag", "b")
		}, "exclusive"},
		{"parameters", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api", "--parameters", "deploy=true")
		}, "must be a JSON object"},
		{"nested", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api", "--parameters", `{"a":[1]}`)
		}, "nested array"},
		{"float", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api", "--parameters", `{"a":0.5}`)
		}, "only integers"},
		{"too many", func(t *testing.T) *process {
			var kv []string
			for i := range 101 {
				kv = append(kv, fmt.Sprintf(`"p%d":1`, i))
			}
			return cmdline(t, "--project-slug", "gh/acme/api", "--parameters", "{"+strings.Join(kv, ",")+"}")
		}, "at most 100"},
		{"key length", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api", "--parameters", `{"`+strings.Repeat("k", 129)+`":1}`)
		}, "at most 128"},
		{"no token", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api").with("CIRCLE_TOKEN", "")
		}, "no token"},
		{"circleci slug", func(t *testing.T) *process { return cmdline(t, "--project-slug", "circleci/Org1/Proj1") }, "set definition-id"},
		{"plain http", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api", "--host", "http://ci.example.com")
		}, "use https"},
		{"duration", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api", "--wait", "--timeout", "10 minutes")
		}, "not a duration"},
		{"on-hold", func(t *testing.T) *process { return cmdline(t, "--project-slug", "gh/acme/api", "--on-hold", "skip") }, "not wait, succeed or fail"},
		{"github input", func(t *testing.T) *process { return github(t, map[string]string{"on-hold": "later"}) }, "::error::on-hold"},
		{"targets", func(t *testing.T) *process {
			return cmdline(t, "--targets", `[{"project-slug":"gh/acme/api"},{"project-slug":"nope"}]`)
		}, "targets[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.p(t).run()
			r.expect(t, 2, tc.want)
			if n := len(r.sim.Requests()); n != 0 {
				t.Errorf("%d requests were sent", n)
			}
		})
	}
}

func TestAPIErrorsAndTheirExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    func(*testing.T) *process
		code int
		want []string
	}{
		{"wrong token", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api").with("CIRCLE_TOKEN", "fake-wrong")
		}, 3,
			[]string{"401 Unauthorized: Invalid token provided.", "check that the token is a valid personal API token"}},
		{"unknown project", func(t *testing.T) *process { return cmdline(t, "--project-slug", "gh/acme/nope") }, 5,
			[]string{"404 Not Found: Project not found", "a project API token also gets 404"}},
		{"unknown branch", func(t *testing.T) *process { return cmdline(t, "--project-slug", "gh/acme/api", "--branch", "nope") }, 7,
			[]string{"400 Bad Request: Branch not found"}},
		{"undeclared parameter refused", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/strict", "--parameters", `{"foo":1}`)
		}, 7, []string{"Unexpected argument(s): foo"}},
		{"undeclared parameter errors the pipeline", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api", "--parameters", `{"foo":1}`, "--wait", "--poll-interval", "1s")
		}, 1, []string{"pipeline errored: config: Unexpected argument(s): foo"}},
		{"unreachable host", func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api", "--timeout", "3s").with("CIRCLE_HOST", "http://127.0.0.1:1").real()
		}, 4, []string{"cannot connect", "gave up after"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.p(t).run()
			r.expect(t, tc.code, tc.want...)
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	r := cmdline(t, "--help").run()
	r.expect(t, 0, "--project-slug", "--targets", "--on-hold", "Exit codes:", "CIRCLE_TOKEN")
	r = cmdline(t, "--version").real().run()
	// go build in a checkout records the revision; releases set the version.
	if r.code != 0 || !regexp.MustCompile(`^circleci-trigger dev(-[0-9a-f]{12}(-dirty)?)?\n$`).MatchString(r.stdout) {
		t.Errorf("--version: %d %q", r.code, r.stdout)
	}
	r = cmdline(t, "--projct-slug", "gh/acme/api").run()
	if r.code != 2 || r.stderr != "circleci-trigger: unknown flag --projct-slug (see --help)\n" || r.stdout != "" {
		t.Errorf("a typo: %d %q %q, want one line", r.code, r.stdout, r.stderr)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r = cmdline(t, "completion", sh).run()
		if r.code != 0 || !strings.Contains(r.stdout, "circleci-trigger") || !strings.Contains(r.stdout, "project-slug") ||
			!strings.Contains(r.stdout, "wait succeed fail") || strings.Contains(r.stdout, "%!") {
			t.Errorf("completion %s: %d\n%s%s", sh, r.code, r.stdout, r.stderr)
		}
	}
	if r = cmdline(t, "completion", "powershell").run(); r.code != 2 || !strings.Contains(r.stderr, "completion bash|zsh|fish") {
		t.Errorf("completion powershell: %d %q", r.code, r.stderr)
	}
}

// The token appears in no output, log line, URL or error, in any mode.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	for _, p := range []func(*testing.T) *process{
		func(t *testing.T) *process { return cmdline(t, "--project-slug", "gh/acme/api") },
		func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/failing", "--wait", "--poll-interval", "1s", "--json")
		},
		func(t *testing.T) *process { return cmdline(t, "--project-slug", "gh/acme/nope") },
		func(t *testing.T) *process { return cmdline(t, "--project-slug", "bad") },
		func(t *testing.T) *process {
			return cmdline(t, "--targets", `[{"project-slug":"gh/acme/web"},{"project-slug":"gh/acme/nope"}]`, "--wait", "--poll-interval", "1s")
		},
		func(t *testing.T) *process {
			return cmdline(t, "--project-slug", "gh/acme/api", "--timeout", "2s").with("CIRCLE_HOST", "http://127.0.0.1:1")
		},
		func(t *testing.T) *process {
			return github(t, map[string]string{"wait": "true", "poll-interval": "1s", "project-slug": "gh/acme/failing"})
		},
		func(t *testing.T) *process { return github(t, map[string]string{"project-slug": "gh/acme/nope"}) },
	} {
		r := p(t).run()
		stdout := strings.Replace(r.stdout, "::add-mask::"+token+"\n", "", 1)
		for where, s := range map[string]string{"stdout": stdout, "stderr": r.stderr, "outputs": jsonOf(r.outputs), "summary": r.summary} {
			if strings.Contains(s, token) || strings.Contains(s, token[:16]) {
				t.Errorf("the token is in %s:\n%s", where, s)
			}
		}
		for _, q := range r.sim.Requests() {
			if strings.Contains(q.RawURL(), token[:16]) || strings.Contains(q.Query, token[:16]) {
				t.Errorf("the token is in a URL: %s", q.RawURL())
			}
			if q.Auth != "circle-token" {
				t.Errorf("sent with %s auth", q.Auth)
			}
		}
	}
}

// A plain run: step on GitHub (GITHUB_ACTIONS=true, not the action) is a
// CLI: --json puts exactly one JSON object on stdout, no workflow command
// and no token is printed, and no output file is written.
func TestRunStepOnGitHubIsACLI(t *testing.T) {
	t.Parallel()
	p := cmdline(t, "--project-slug", "gh/acme/api", "--wait", "--json").with("GITHUB_ACTIONS", "true", "GITHUB_REPOSITORY", "acme/api",
		"GITHUB_REF", "refs/heads/main", "GITHUB_EVENT_NAME", "push")
	r := p.run()
	var out map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out["status"] != "success" {
		t.Fatalf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "::") || strings.Contains(r.stdout+r.stderr, token) || len(r.outputs) != 0 || r.summary != "" {
		t.Errorf("a run: step printed workflow commands or wrote outputs:\n%s\n%s\n%v", r.stdout, r.stderr, r.outputs)
	}
}
