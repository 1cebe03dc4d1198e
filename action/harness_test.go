package action_test

// The harness: the repository staged as a GitHub repository (acme/api), the
// simulator on a loopback port, act running a workflow of testdata/workflows
// on this machine (-P ubuntu-latest=-self-hosted), and act's JSON log read
// back into step results, outputs, summaries and log lines.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
)

// token is what the simulator accepts; obviously not a CircleCI token.
const token = "fake-token-3f9c2a71-not-real"

// actVersion is the act the harness is written against; .ci/run installs it.
const actVersion = "v0.2.89"

// The action as a released ref would name it; act maps it to the staged source.
const actionRepo = "circleci-trigger/circleci-trigger"

// needAct skips without act, unless CI asks for the act tests to run.
func needAct(t *testing.T) string {
	t.Helper()
	act, err := exec.LookPath("act")
	if err != nil {
		if os.Getenv("CIRCLECI_TRIGGER_REQUIRE_ACT") != "" {
			t.Fatalf("act is not on PATH, and CIRCLECI_TRIGGER_REQUIRE_ACT is set")
		}
		t.Skipf("act is not on PATH, so the action's workflows are not run: go install github.com/nektos/act@%s (.ci/run does)", actVersion)
	}
	if runtime.GOOS != "linux" {
		t.Skip("the act tests run on Linux")
	}
	return act
}

var (
	stageOnce sync.Once
	staged    string // the repository as acme/api, on branch main
	prebuilt  string // circleci-trigger built from the same source
	stageErr  error
)

// stage copies the repository's files (tracked and untracked, not ignored)
// into a fresh git repository whose origin is github.com/acme/api, once.
func stage(t *testing.T) (dir, binary string) {
	t.Helper()
	root := repoRoot(t)
	stageOnce.Do(func() {
		base, err := os.MkdirTemp("", "circleci-trigger-action")
		if err != nil {
			stageErr = err
			return
		}
		staged = filepath.Join(base, "api")
		if stageErr = copyTree(root, staged); stageErr != nil {
			return
		}
		for _, args := range [][]string{
			{"init", "-q", "-b", "main"},
			{"remote", "add", "origin", "https://github.com/acme/api.git"},
			{"add", "-A"},
			{"-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "staged"},
		} {
			if out, err := exec.Command("git", append([]string{"-C", staged}, args...)...).CombinedOutput(); err != nil {
				stageErr = &cmdError{"git " + strings.Join(args, " "), err, out}
				return
			}
		}
		prebuilt = filepath.Join(base, "bin", "circleci-trigger")
		cmd := exec.Command("go", "build", "-trimpath", "-o", prebuilt, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			stageErr = &cmdError{"go build", err, out}
		}
	})
	if stageErr != nil {
		t.Fatal(stageErr)
	}
	return staged, prebuilt
}

type cmdError struct {
	cmd string
	err error
	out []byte
}

func (e *cmdError) Error() string { return e.cmd + ": " + e.err.Error() + "\n" + string(e.out) }

// copyTree copies the files git would commit (or, without git, every file
// but .git and build output).
func copyTree(src, dst string) error {
	var files []string
	out, err := exec.Command("git", "-C", src, "ls-files", "-z", "-c", "-o", "--exclude-standard").Output()
	if err == nil {
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
	} else {
		err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			if d.IsDir() && (rel == ".git" || rel == "dist" || rel == filepath.Join(".ci", "bin")) {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, f := range files {
		info, err := os.Lstat(filepath.Join(src, f))
		if err != nil {
			if os.IsNotExist(err) { // deleted in the work tree
				continue
			}
			return err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, f)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// simulator serves testdata/scenario.json on a loopback port.
func simulator(t *testing.T) (*circlecitest.Simulator, string) {
	t.Helper()
	b, err := os.ReadFile("testdata/scenario.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := circlecitest.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	s := circlecitest.NewSimulator(sc, nil)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// actRun is what act reported of one workflow run.
type actRun struct {
	code  int
	log   []byte // act's JSON log
	steps map[string]*step
}

// step is one top-level step of the job: a uses: step includes the lines of
// the action's own steps.
type step struct {
	result   string // success or failure, as act reports the step
	outputs  map[string]string
	summary  string
	lines    []string // the step's output, and the workflow commands it issued
	commands []string // the workflow commands it issued, e.g. add-mask
}

func (s *step) text() string { return strings.Join(s.lines, "\n") }

type actOptions struct {
	event    string            // push, release, pull_request
	env      map[string]string // --env
	actions  map[string]string // ref (owner/repo@ref) -> directory, for --local-repository
	cacheDir string            // act's cache and the runner's tool cache; default a new temp dir
}

// act runs one workflow against the simulator at host and parses its log.
func act(t *testing.T, workflow, host string, o actOptions) *actRun {
	t.Helper()
	bin := needAct(t)
	dir, binary := stage(t)
	if o.event == "" {
		o.event = "push"
	}
	if o.cacheDir == "" {
		o.cacheDir = t.TempDir()
	}
	wf, err := filepath.Abs(filepath.Join("testdata", "workflows", workflow))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := filepath.Abs(filepath.Join("testdata", "events", o.event+".json"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{o.event, "-W", wf, "-e", ev, "--json",
		"-P", "ubuntu-latest=-self-hosted", "--no-cache-server", "--action-cache-path", o.cacheDir,
		"--actor", "octocat", "--defaultbranch", "main",
		// Leaks show: act would print the secrets as *** otherwise.
		"--insecure-secrets",
		"--secret", "CIRCLE_TOKEN=" + token, "--secret", "CCI_TOKEN=" + token,
		"--env", "CIRCLE_HOST=" + host, "--env", "PREBUILT_BINARY=" + binary,
		"--local-repository", actionRepo + "@v1=" + dir,
	}
	for k, v := range o.env {
		args = append(args, "--env", k+"="+v)
	}
	for ref, d := range o.actions {
		args = append(args, "--local-repository", ref+"="+d)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = actEnv(o.cacheDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	r := &actRun{log: out.Bytes(), steps: map[string]*step{}}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("act: %v", err)
	}
	r.parse(t)
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("act %s (exit %d):\n%s", workflow, r.code, r.pretty())
		}
	})
	return r
}

// actEnv is the environment act runs in: a runner's, not this test's (act's
// host executor passes its own environment on to the steps).
func actEnv(home string) []string {
	env := []string{"CI=true", "LANG=C.UTF-8"}
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOPATH", "GOCACHE", "GOMODCACHE", "GOPROXY", "GOFLAGS", "GOTOOLCHAIN", "GONOSUMDB", "GOPRIVATE", "GOSUMDB", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	// The Go caches stay where go env says, so builds in act are cached.
	for _, k := range []string{"GOCACHE", "GOMODCACHE"} {
		if _, ok := os.LookupEnv(k); !ok {
			if out, err := exec.Command("go", "env", k).Output(); err == nil {
				env = append(env, k+"="+strings.TrimSpace(string(out)))
			}
		}
	}
	return env
}

type logEntry struct {
	Msg        string   `json:"msg"`
	StepID     []string `json:"stepID"`
	Stage      string   `json:"stage"`
	StepResult string   `json:"stepResult"`
	Command    string   `json:"command"`
	Name       string   `json:"name"`
	Arg        string   `json:"arg"`
	Content    string   `json:"content"`
	Raw        bool     `json:"raw_output"`
}

func (r *actRun) parse(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(r.log))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e logEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || len(e.StepID) == 0 {
			continue
		}
		s := r.steps[e.StepID[0]]
		if s == nil {
			s = &step{outputs: map[string]string{}}
			r.steps[e.StepID[0]] = s
		}
		top := len(e.StepID) == 1
		switch {
		case e.Raw:
			s.lines = append(s.lines, strings.TrimRight(e.Msg, "\n"))
		case e.Command == "set-output" && top:
			s.outputs[e.Name] = e.Arg
		case e.Command == "summary" && top:
			s.summary = e.Content
		case e.Command != "":
			s.commands = append(s.commands, e.Command)
			s.lines = append(s.lines, strings.TrimSpace(e.Msg))
		case e.StepResult != "" && e.Stage == "Main" && top:
			s.result = e.StepResult
		}
	}
	if err := sc.Err(); err != nil && err != io.EOF {
		t.Fatal(err)
	}
}

func (r *actRun) pretty() string {
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(r.log))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e logEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			b.Write(sc.Bytes())
		} else {
			b.WriteString(strings.Join(e.StepID, "/") + " | " + strings.TrimRight(e.Msg, "\n"))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// step returns a step the run must have.
func (r *actRun) step(t *testing.T, id string) *step {
	t.Helper()
	s := r.steps[id]
	if s == nil {
		t.Fatalf("no step %q in act's log", id)
	}
	return s
}

func bodyOf(t *testing.T, q circlecitest.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(q.Body, &m); err != nil {
		t.Fatalf("body of %s %s: %v: %s", q.Method, q.Path, err, q.Body)
	}
	return m
}

func canonical(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
