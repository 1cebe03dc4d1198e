package orb_test

// The orb as CircleCI runs it: the trigger command's script (from the packed
// orb when CI packed it, ORB_PACKED, else from src/) run with bash, its
// parameters substituted into the step's environment, on each executor's
// platform (a fake uname on PATH), downloading the release from a local
// file server, against the simulator.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
	"gopkg.in/yaml.v3"
)

var binary string // circleci-trigger, built once

func TestMain(m *testing.M) { simtest.MainWithBinary(m, "..", &binary) }

const token = "fake-token-3f9c2a71-not-real"

const world = `{
  "tokens": ["fake-token-3f9c2a71-not-real"],
  "projects": [
    {"slug": "gh/acme/api", "branches": ["main", "feature/*"],
     "parameters": {"deploy": "boolean", "env": "string", "replicas": "integer"},
     "pipeline": {"workflows": [{"name": "build", "duration": "300ms"}]}},
    {"slug": "gh/acme/slow", "pipeline": {"workflows": [{"name": "build", "duration": "1h"}]}},
    {"slug": "gh/acme/web", "pipeline": {"workflows": [{"name": "build", "duration": "100ms"}]}},
    {"slug": "gh/acme/mobile", "pipeline": {"workflows": [{"name": "build", "duration": "100ms"}]}}
  ]
}`

// ---- the orb's files

type parameter struct {
	Type    string `yaml:"type"`
	Default any    `yaml:"default"`
}

type command struct {
	Parameters map[string]parameter `yaml:"parameters"`
	Steps      []struct {
		Run struct {
			Environment map[string]string `yaml:"environment"`
			Command     string            `yaml:"command"`
		} `yaml:"run"`
	} `yaml:"steps"`
}

type job struct {
	Executor    any                         `yaml:"executor"`
	Parallelism any                         `yaml:"parallelism"`
	Parameters  map[string]parameter        `yaml:"parameters"`
	Steps       []map[string]map[string]any `yaml:"steps"`
}

type orbFile struct {
	Commands  map[string]command        `yaml:"commands"`
	Jobs      map[string]job            `yaml:"jobs"`
	Executors map[string]map[string]any `yaml:"executors"`
}

// readOrb reads the packed orb when CI packed it (ORB_PACKED), else
// src/, with the command's include resolved as `circleci orb pack` does.
func readOrb(t *testing.T) orbFile {
	t.Helper()
	var o orbFile
	if packed := os.Getenv("ORB_PACKED"); packed != "" {
		b, err := os.ReadFile(packed)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	o = orbFile{Commands: map[string]command{}, Jobs: map[string]job{}, Executors: map[string]map[string]any{}}
	read := func(kind string, into func(name string, b []byte) error) {
		files, _ := filepath.Glob(filepath.Join("src", kind, "*.yml"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := into(strings.TrimSuffix(filepath.Base(f), ".yml"), b); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
	}
	read("commands", func(name string, b []byte) error {
		var c command
		err := yaml.Unmarshal(b, &c)
		o.Commands[name] = c
		return err
	})
	read("jobs", func(name string, b []byte) error {
		var j job
		err := yaml.Unmarshal(b, &j)
		o.Jobs[name] = j
		return err
	})
	read("executors", func(name string, b []byte) error {
		var e map[string]any
		err := yaml.Unmarshal(b, &e)
		o.Executors[name] = e
		return err
	})
	include := regexp.MustCompile(`^<<\s*include\((.+)\)\s*>>$`)
	for name, c := range o.Commands {
		for i := range c.Steps {
			run := &c.Steps[i].Run
			if m := include.FindStringSubmatch(strings.TrimSpace(run.Command)); m != nil {
				script, err := os.ReadFile(filepath.Join("src", m[1]))
				if err != nil {
					t.Fatal(err)
				}
				run.Command = string(script)
			}
		}
		o.Commands[name] = c
	}
	return o
}

// ---- running the command's step

type step struct {
	t      *testing.T
	params map[string]string
	env    map[string]string
	path   string    // PATH
	tmp    string    // TMPDIR, checked for leftovers
	script string    // the step's command; set: replaces the orb's
	signal os.Signal // set: sent to the shell once the binary waits
	world  string    // the simulator's scenario (a built-in name or JSON); default world
}

type result struct {
	code           int
	stdout, stderr string
	sim            *circlecitest.Simulator
}

// orb prepares the trigger command's step as CircleCI runs it: parameters
// substituted into its environment, the CircleCI environment, and PATH.
func orb(t *testing.T, params map[string]string, path string) *step {
	return &step{t: t, params: params, path: path, tmp: t.TempDir(), env: map[string]string{}}
}

func (s *step) with(kv ...string) *step {
	for i := 0; i < len(kv); i += 2 {
		s.env[kv[i]] = kv[i+1]
	}
	return s
}

func (s *step) run() result {
	t := s.t
	t.Helper()
	cmd := readOrb(t).Commands["trigger"]
	values := map[string]string{}
	for name, p := range cmd.Parameters {
		values[name] = fmt.Sprint(p.Default)
	}
	maps.Copy(values, s.params)
	ref := regexp.MustCompile(`<<\s*parameters\.(\w+)\s*>>`)

	sc, err := circlecitest.Parse([]byte(world))
	if s.world != "" {
		sc, err = circlecitest.Open(s.world)
	}
	if err != nil {
		t.Fatal(err)
	}
	sv := circlecitest.NewSimulator(sc, nil)
	srv := httptest.NewServer(sv)
	t.Cleanup(srv.Close)

	env := map[string]string{
		"CIRCLECI": "true", "CI": "true", "CIRCLE_PROJECT_USERNAME": "acme", "CIRCLE_PROJECT_REPONAME": "api",
		"CIRCLE_REPOSITORY_URL": "git@github.com:acme/api.git", "CIRCLE_BRANCH": "main", "CIRCLE_BUILD_NUM": "77",
		"CIRCLE_HOST": srv.URL, "PATH": s.path, "TMPDIR": s.tmp, "HOME": t.TempDir(),
	}
	for k, v := range cmd.Steps[0].Run.Environment {
		env[k] = ref.ReplaceAllStringFunc(v, func(m string) string { return values[ref.FindStringSubmatch(m)[1]] })
	}
	maps.Copy(env, s.env)
	script := cmd.Steps[0].Run.Command
	if s.script != "" {
		script = s.script
	}

	c := exec.Command("/bin/bash", "-eo", "pipefail", "-c", script)
	for k, v := range env {
		c.Env = append(c.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	// Its own process group, so that nothing it started outlives the test;
	// a child left running holds the pipes: stop waiting for them soon.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.WaitDelay = 5 * time.Second
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	if s.signal != nil {
		go signalWhenWaiting(t, c, sv, s.signal)
	}
	err = c.Wait()
	r := result{stdout: stdout.String(), stderr: stderr.String(), sim: sv}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		t.Fatal(err)
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		t.Errorf("the step exited, but something it started kept running")
	}
	return r
}

// signalWhenWaiting signals the shell, not the binary, once the binary
// polls running workflows (the simulator creates them within its first
// second): only forwarding reaches the binary.
func signalWhenWaiting(t *testing.T, c *exec.Cmd, sv *circlecitest.Simulator, sig os.Signal) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, q := range sv.Requests() {
			if strings.HasSuffix(q.Path, "/workflow") && q.At > time.Second {
				c.Process.Signal(sig)
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("the binary never polled")
	c.Process.Kill()
}

func (r result) expect(t *testing.T, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
		}
	}
}

func (r result) requests(method, pathGlob string) []circlecitest.Request {
	return r.sim.Matching(method, pathGlob)
}

// trigger is the body of the one pipeline the step triggered.
func (r result) trigger(t *testing.T) map[string]any {
	t.Helper()
	q := r.requests("POST", "/project/*/pipeline")
	if len(q) != 1 {
		t.Fatalf("%d triggers, want 1\nstderr:\n%s", len(q), r.stderr)
	}
	var m map[string]any
	if err := json.Unmarshal(q[0].Body, &m); err != nil {
		t.Fatalf("body %s: %v", q[0].Body, err)
	}
	return m
}

// noLeftovers checks the step left nothing in its TMPDIR.
func (s *step) noLeftovers(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left behind in TMPDIR: %v", names)
	}
}

// ---- PATHs: each executor's platform, and tools present or not

// pathWithBinary is a PATH where circleci-trigger is found, like the image.
func pathWithBinary(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Symlink(binary, filepath.Join(dir, "circleci-trigger")); err != nil {
		t.Fatal(err)
	}
	return dir + ":/usr/bin:/bin"
}

type platform struct {
	name, sysname, machine string
	asset                  string // what the command must download
}

// platforms are the executors' platforms as uname reports them: CircleCI's
// Linux (amd64, Arm), macOS and Windows (Git Bash) executors, and the other
// shells of Windows.
var platforms = []platform{
	{"linux amd64", "Linux", "x86_64", "circleci-trigger_linux_amd64"},
	{"linux arm64", "Linux", "aarch64", "circleci-trigger_linux_arm64"},
	{"macOS amd64", "Darwin", "x86_64", "circleci-trigger_darwin_amd64"},
	{"macOS arm64", "Darwin", "arm64", "circleci-trigger_darwin_arm64"},
	{"windows Git Bash", "MINGW64_NT-10.0-20348", "x86_64", "circleci-trigger_windows_amd64.exe"},
	{"windows MSYS2", "MSYS_NT-10.0-20348", "x86_64", "circleci-trigger_windows_amd64.exe"},
	{"windows Cygwin", "CYGWIN_NT-10.0-20348", "x86_64", "circleci-trigger_windows_amd64.exe"},
	{"windows arm64", "MINGW64_NT-10.0-26100", "aarch64", "circleci-trigger_windows_arm64.exe"},
}

var linuxAMD64 = platforms[0]

// fakeUname writes a uname that reports the platform into dir.
func fakeUname(t *testing.T, dir string, p platform) {
	t.Helper()
	script := fmt.Sprintf("#!/bin/sh\ncase \"$1\" in -m) echo %q ;; *) echo %q ;; esac\n", p.machine, p.sysname)
	if err := os.WriteFile(filepath.Join(dir, "uname"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// pathOn is a PATH without circleci-trigger or the circleci CLI, where
// uname reports the platform.
func pathOn(t *testing.T, p platform) string {
	dir := t.TempDir()
	fakeUname(t, dir, p)
	return dir + ":/usr/bin:/bin"
}

// pathWithout is a PATH with only the tools the command needs besides a
// downloader: no curl and no wget.
func pathWithout(t *testing.T, p platform) string {
	dir := t.TempDir()
	fakeUname(t, dir, p)
	for _, tool := range []string{"printenv", "mktemp", "rm", "cat", "awk", "cut", "chmod", "sha256sum"} {
		where, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s here", tool)
		}
		if err := os.Symlink(where, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// withCircleCLI adds the circleci CLI to a PATH: the real one when it is
// installed (.ci/run installs it), else a stand-in for `env subst`.
func withCircleCLI(t *testing.T, path string) string {
	dir := t.TempDir()
	if real, err := exec.LookPath("circleci"); err == nil {
		if err := os.Symlink(real, filepath.Join(dir, "circleci")); err != nil {
			t.Fatal(err)
		}
		return dir + ":" + path
	}
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("neither the circleci CLI nor perl")
	}
	fake := `#!/bin/sh
[ "$1 $2" = "env subst" ] || { echo "fake circleci: $*" >&2; exit 1; }
exec perl -pe 's{\$\{(\w+)\}|\$(\w+)}{$ENV{$1 // $2} // ""}ge'
`
	if err := os.WriteFile(filepath.Join(dir, "circleci"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir + ":" + path
}

// ---- a release to download

type release struct {
	url  string
	sums string // checksums.txt: the real binary's sha256 for every asset

	mu    sync.Mutex
	paths []string
}

// newRelease serves v1.0.0 of a release: the binary built for this
// machine under every asset's name (so it runs whatever uname says), and
// checksums.txt when withSums.
func newRelease(t *testing.T, withSums bool) *release {
	t.Helper()
	b, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	rel := &release{}
	assets := map[string]bool{}
	for _, p := range platforms {
		if !assets[p.asset] {
			assets[p.asset] = true
			rel.sums += hex.EncodeToString(sum[:]) + "  " + p.asset + "\n"
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rel.mu.Lock()
		rel.paths = append(rel.paths, r.URL.Path)
		rel.mu.Unlock()
		name, ok := strings.CutPrefix(r.URL.Path, "/v1.0.0/")
		switch {
		case ok && assets[name]:
			w.Write(b)
		case ok && name == "checksums.txt" && withSums:
			fmt.Fprint(w, rel.sums)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	rel.url = srv.URL
	return rel
}

func (r *release) requested() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.paths)
}

// download is the step with the release as its mirror and the platform's
// PATH: no circleci-trigger there, so the command downloads it.
func download(t *testing.T, rel *release, p platform, params map[string]string) *step {
	return orb(t, params, pathOn(t, p)).with("CIRCLE_TOKEN", token, "CIRCLECI_TRIGGER_DOWNLOAD_URL", rel.url)
}

// ---- the tests

func TestOrbCommandTriggersAndWaits(t *testing.T) {
	t.Parallel()
	s := orb(t, map[string]string{"wait": "true", "poll_interval": "1s", "max_poll_interval": "2s", "parameters": `{"replicas": 3}`}, pathWithBinary(t)).
		with("CIRCLE_TOKEN", token)
	r := s.run()
	r.expect(t, 0, "Pipeline #1 of gh/acme/api on branch main triggered", "build")
	if got, _ := json.Marshal(r.trigger(t)); string(got) != `{"branch":"main","parameters":{"replicas":3}}` {
		t.Errorf("body = %s", got)
	}
	s.noLeftovers(t)
}

func TestOrbCommandWithShellMetacharacters(t *testing.T) {
	t.Parallel()
	canary := filepath.Join(t.TempDir(), "pwned")
	nasty := `$(touch ` + canary + `) ` + "`touch " + canary + "`" + ` ; touch ` + canary + ` ' " \ * ?`
	params := fmt.Sprintf(`{"env": %q, "deploy": true}`, nasty)
	for _, tc := range []struct {
		name string
		path string
	}{
		{"binary on PATH, no circleci CLI", pathWithBinary(t)},
		{"downloaded, with the circleci CLI", withCircleCLI(t, pathOn(t, linuxAMD64))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rel := newRelease(t, false)
			r := orb(t, map[string]string{"token": "MY_CIRCLE_TOKEN", "parameters": params, "branch": "feature/$(id)", "version": "1.0.0"}, tc.path).
				with("MY_CIRCLE_TOKEN", token, "CIRCLECI_TRIGGER_DOWNLOAD_URL", rel.url, "CIRCLECI_TRIGGER_SHA256SUMS", rel.sums).run()
			r.expect(t, 0, "on branch feature/$(id) triggered")
			b := r.trigger(t)
			if b["branch"] != "feature/$(id)" || b["parameters"].(map[string]any)["env"] != nasty {
				t.Errorf("parameters changed on the way: %v", b)
			}
			if _, err := os.Stat(canary); err == nil {
				t.Error("a parameter was executed by the shell")
			}
		})
	}
}

func TestOrbCommandNeedsTheToken(t *testing.T) {
	t.Parallel()
	r := orb(t, map[string]string{"token": "NOT_SET_ANYWHERE"}, pathWithBinary(t)).run()
	r.expect(t, 2, "$NOT_SET_ANYWHERE is empty")
	r = orb(t, map[string]string{"token": "BAD;NAME"}, pathWithBinary(t)).run()
	r.expect(t, 2, "token must name an environment variable")
	if n := len(r.sim.Requests()); n != 0 {
		t.Errorf("%d requests without a token", n)
	}
}

func TestOrbDownloadsTheBinaryOfEachPlatform(t *testing.T) {
	t.Parallel()
	for _, p := range platforms {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			rel := newRelease(t, true)
			// Another version than the orb's: checked against that
			// release's checksums.txt.
			s := download(t, rel, p, map[string]string{"version": "1.0.0"})
			r := s.run()
			r.expect(t, 0, "Pipeline #1 of gh/acme/api")
			want := []string{"/v1.0.0/" + p.asset, "/v1.0.0/checksums.txt"}
			if got := rel.requested(); !slices.Equal(got, want) {
				t.Errorf("requested %v, want %v", got, want)
			}
			s.noLeftovers(t)
		})
	}
}

// pinned is the command's script as scripts/pin-orb.sh publishes it.
func pinned(t *testing.T, version, sums string) string {
	t.Helper()
	script := readOrb(t).Commands["trigger"].Steps[0].Run.Command
	for _, line := range []string{`PINNED_VERSION=""`, `PINNED_SHA256SUMS=""`} {
		if strings.Count(script, "\n"+line+"\n") != 1 {
			t.Fatalf("the script has no line %s for pin-orb.sh", line)
		}
	}
	script = strings.Replace(script, "\nPINNED_VERSION=\"\"\n", "\nPINNED_VERSION=\""+version+"\"\n", 1)
	return strings.Replace(script, "\nPINNED_SHA256SUMS=\"\"\n", "\nPINNED_SHA256SUMS='"+sums+"'\n", 1)
}

func TestOrbUsesItsPinnedRelease(t *testing.T) {
	t.Parallel()
	rel := newRelease(t, false) // no checksums.txt: the pinned ones must do
	s := download(t, rel, platforms[1], nil)
	s.script = pinned(t, "1.0.0", rel.sums)
	r := s.run()
	r.expect(t, 0, "Pipeline #1 of gh/acme/api")
	if got, want := rel.requested(), []string{"/v1.0.0/circleci-trigger_linux_arm64"}; !slices.Equal(got, want) {
		t.Errorf("requested %v, want %v", got, want)
	}

	// Unpinned, without a version: nothing to download.
	r = download(t, rel, platforms[1], nil).run()
	r.expect(t, 2, "pins no release: set the version parameter")
}

func TestOrbRefusesABinaryThatDoesNotMatch(t *testing.T) {
	t.Parallel()
	bad := strings.Repeat("0", 64)
	for _, tc := range []struct {
		name, sums, want string
	}{
		{"wrong checksum", bad + "  circleci-trigger_linux_amd64\n" + bad + "  circleci-trigger_linux_arm64\n", "checksum mismatch for circleci-trigger_linux_amd64"},
		{"no checksum for this platform", bad + "  circleci-trigger_darwin_arm64\n", "no checksum for circleci-trigger_linux_amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rel := newRelease(t, true)
			s := download(t, rel, linuxAMD64, map[string]string{"version": "1.0.0"}).with("CIRCLECI_TRIGGER_SHA256SUMS", tc.sums)
			r := s.run()
			r.expect(t, 4, tc.want, "refusing to run it")
			if n := len(r.sim.Requests()); n != 0 {
				t.Errorf("the unverified binary ran: %d requests", n)
			}
			s.noLeftovers(t)
		})
	}
}

func TestOrbKeepsTheExitCodeAndLeavesNothing(t *testing.T) {
	t.Parallel()
	rel := newRelease(t, true)
	s := download(t, rel, linuxAMD64, map[string]string{"version": "1.0.0", "project_slug": "gh/acme/missing"})
	r := s.run()
	r.expect(t, 5)
	s.noLeftovers(t)
}

func TestOrbWithoutCurlOrWget(t *testing.T) {
	t.Parallel()
	rel := newRelease(t, true)
	s := orb(t, map[string]string{"version": "1.0.0"}, pathWithout(t, linuxAMD64)).
		with("CIRCLE_TOKEN", token, "CIRCLECI_TRIGGER_DOWNLOAD_URL", rel.url)
	r := s.run()
	r.expect(t, 2, "neither curl nor wget is installed", "install one")
	if n := len(r.sim.Requests()) + len(rel.requested()); n != 0 {
		t.Errorf("%d requests", n)
	}
	s.noLeftovers(t)
}

func TestOrbExpandsEnvironmentVariables(t *testing.T) {
	t.Parallel()
	canary := filepath.Join(t.TempDir(), "pwned")
	params := map[string]string{
		"branch":     "${TARGET_BRANCH}",
		"parameters": `{"env": "$DEPLOY_ENV", "deploy": true, "replicas": $REPLICAS, "other": "$(touch ` + canary + `)"}`,
	}
	env := []string{"CIRCLE_TOKEN", token, "TARGET_BRANCH", "feature/x", "DEPLOY_ENV", "staging", "REPLICAS", "3"}

	t.Run("with the circleci CLI", func(t *testing.T) {
		t.Parallel()
		r := orb(t, params, withCircleCLI(t, pathWithBinary(t))).with(env...).run()
		r.expect(t, 0, "on branch feature/x triggered")
		b := r.trigger(t)
		want := map[string]any{"env": "staging", "deploy": true, "replicas": 3.0, "other": "$(touch " + canary + ")"}
		if got := b["parameters"].(map[string]any); !maps.Equal(got, want) {
			t.Errorf("parameters = %v, want %v", got, want)
		}
		if _, err := os.Stat(canary); err == nil {
			t.Error("a parameter was executed")
		}
	})
	t.Run("without it", func(t *testing.T) {
		t.Parallel()
		r := orb(t, map[string]string{"parameters": `{"env": "$DEPLOY_ENV"}`}, pathWithBinary(t)).with(env...).run()
		r.expect(t, 0, "CIRCLECI_TRIGGER_PARAMETERS keeps its $ as written")
		if got := r.trigger(t)["parameters"].(map[string]any)["env"]; got != "$DEPLOY_ENV" {
			t.Errorf("env = %v, want it as written", got)
		}
	})
}

func TestOrbForwardsCancellation(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			rel := newRelease(t, true)
			s := download(t, rel, linuxAMD64, map[string]string{"version": "1.0.0", "project_slug": "gh/acme/slow",
				"wait": "true", "cancel_on_exit": "true", "poll_interval": "1s", "max_poll_interval": "2s"})
			s.signal = sig
			r := s.run()
			r.expect(t, 6, "canceled workflow build")
			if n := len(r.requests("POST", "/workflow/*/cancel")); n != 1 {
				t.Errorf("%d cancel requests, want 1", n)
			}
			s.noLeftovers(t)
		})
	}
}

func TestOrbWithParallelism(t *testing.T) {
	t.Parallel()
	targets := `[{"project-slug": "gh/acme/web"}, {"project-slug": "gh/acme/mobile"}]`
	help, _ := exec.Command(binary, "--help").CombinedOutput()
	canShard := bytes.Contains(help, []byte("shard"))
	triggered := map[string]int{}
	for node := range 2 {
		r := orb(t, map[string]string{"targets": targets}, pathWithBinary(t)).
			with("CIRCLE_TOKEN", token, "CIRCLE_NODE_TOTAL", "2", "CIRCLE_NODE_INDEX", fmt.Sprint(node)).run()
		if !canShard {
			// Every node would trigger every target: refused.
			r.expect(t, 2, "runs on 2 parallel nodes", "remove parallelism")
			if n := len(r.sim.Requests()); n != 0 {
				t.Errorf("node %d sent %d requests", node, n)
			}
			continue
		}
		r.expect(t, 0)
		for _, q := range r.requests("POST", "/project/*/pipeline") {
			triggered[q.Path]++
		}
	}
	if canShard && len(triggered) != 2 {
		t.Errorf("triggered %v, want each target once", triggered)
	}
	for path, n := range triggered {
		if n != 1 {
			t.Errorf("%s triggered %d times", path, n)
		}
	}
}

// ---- the orb's shape

func TestOrbJobTakesEveryCommandParameter(t *testing.T) {
	t.Parallel()
	o := readOrb(t)
	cmd, jb := o.Commands["trigger"], o.Jobs["trigger"]
	if len(jb.Steps) != 1 || jb.Steps[0]["trigger"] == nil {
		t.Fatalf("the job's steps are %v, want the trigger command", jb.Steps)
	}
	passed := jb.Steps[0]["trigger"]
	for name, p := range cmd.Parameters {
		jp, ok := jb.Parameters[name]
		if !ok {
			t.Errorf("the job lacks the command's parameter %s", name)
			continue
		}
		if jp.Type != p.Type {
			t.Errorf("%s: the job's type %s, the command's %s", name, jp.Type, p.Type)
		}
		if got := strings.ReplaceAll(fmt.Sprint(passed[name]), " ", ""); got != "<<parameters."+name+">>" {
			t.Errorf("the job passes %s = %v", name, passed[name])
		}
	}
	if fmt.Sprint(jb.Executor) != "<< parameters.executor >>" || fmt.Sprint(jb.Parallelism) != "<< parameters.parallelism >>" {
		t.Errorf("executor %v, parallelism %v: want the job's parameters", jb.Executor, jb.Parallelism)
	}
}

func TestOrbCommandPassesEveryParameter(t *testing.T) {
	t.Parallel()
	cmd := readOrb(t).Commands["trigger"]
	env := cmd.Steps[0].Run.Environment
	for name := range cmd.Parameters {
		key := "CIRCLECI_TRIGGER_" + strings.ToUpper(name)
		if name == "token" {
			key = "CIRCLECI_TRIGGER_TOKEN_VAR"
		}
		if got := strings.ReplaceAll(env[key], " ", ""); got != "<<parameters."+name+">>" {
			t.Errorf("%s = %q, want parameter %s", key, env[key], name)
		}
	}
	if len(env) != len(cmd.Parameters) {
		t.Errorf("%d variables for %d parameters", len(env), len(cmd.Parameters))
	}
}

func TestOrbExecutors(t *testing.T) {
	t.Parallel()
	ex := readOrb(t).Executors
	if got, want := slices.Sorted(maps.Keys(ex)), []string{"default", "linux_arm64", "macos", "windows"}; !slices.Equal(got, want) {
		t.Errorf("executors %v, want %v", got, want)
	}
	if ex["windows"]["shell"] != "bash.exe" {
		t.Errorf("the windows executor's shell is %v, want bash.exe (the command is a POSIX script)", ex["windows"]["shell"])
	}
	if ex["linux_arm64"]["resource_class"] != "arm.medium" || ex["macos"]["macos"] == nil {
		t.Errorf("arm64 %v, macos %v", ex["linux_arm64"], ex["macos"])
	}
}
