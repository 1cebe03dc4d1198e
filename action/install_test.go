package action_test

// action/install.sh, action/run.sh and scripts/pin-action.sh, run with bash
// against a release server on a loopback port, with the RUNNER_OS and
// RUNNER_ARCH of each GitHub-hosted runner.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var platforms = []struct{ runnerOS, runnerArch, asset string }{
	{"Linux", "X64", "circleci-trigger_linux_amd64"},
	{"Linux", "ARM64", "circleci-trigger_linux_arm64"},
	{"macOS", "X64", "circleci-trigger_darwin_amd64"},
	{"macOS", "ARM64", "circleci-trigger_darwin_arm64"},
	{"Windows", "X64", "circleci-trigger_windows_amd64.exe"},
	{"Windows", "ARM64", "circleci-trigger_windows_arm64.exe"},
}

// fakeAsset is a "binary" that says which asset it is, and runs nothing else.
func fakeAsset(name string) []byte {
	return []byte("#!/bin/sh\necho \"I am " + name + "\"\n")
}

func needBash(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s on PATH", tool)
		}
	}
}

// release serves assets below /v<version>/ and counts what it serves.
type release struct {
	URL  string
	mu   sync.Mutex
	hits map[string]int
}

func serveRelease(t *testing.T, version string, assets map[string][]byte) *release {
	t.Helper()
	r := &release{hits: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		name, ok := strings.CutPrefix(q.URL.Path, "/v"+version+"/")
		b, found := assets[name]
		if !ok || !found {
			http.NotFound(w, q)
			return
		}
		r.mu.Lock()
		r.hits[name]++
		r.mu.Unlock()
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *release) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.hits {
		n += v
	}
	return n
}

// actionCopy lays out the action's scripts in a temporary directory, pinned
// to version with the sha256 of sums (nil: not pinned).
func actionCopy(t *testing.T, version string, sums map[string][]byte) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	for _, f := range []string{"action/install.sh", "action/run.sh", "scripts/pin-action.sh"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if sums != nil {
		file := filepath.Join(t.TempDir(), "checksums.txt")
		if err := os.WriteFile(file, []byte(checksums(sums)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := script(t, filepath.Join(dir, "scripts/pin-action.sh"), nil, version, file)
		if r.code != 0 {
			t.Fatalf("pin-action.sh: exit %d\n%s", r.code, r.stderr)
		}
	}
	return dir
}

func checksums(assets map[string][]byte) string {
	var lines []string
	for name, b := range assets {
		sum := sha256.Sum256(b)
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+name)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

type scriptResult struct {
	code           int
	stdout, stderr string
}

// script runs a bash script with exactly env, plus a PATH with the usual
// tools and a RUNNER_TEMP, unless env sets them.
func script(t *testing.T, path string, env map[string]string, args ...string) scriptResult {
	t.Helper()
	full := map[string]string{"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "RUNNER_TEMP": t.TempDir()}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN"} {
		if v, ok := os.LookupEnv(k); ok {
			full[k] = v
		}
	}
	for k, v := range env {
		full[k] = v
	}
	cmd := exec.Command("bash", append([]string{path}, args...)...)
	for k, v := range full {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := scriptResult{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// runPath runs the binary install.sh printed.
func runPath(t *testing.T, r scriptResult) string {
	t.Helper()
	path := strings.TrimSpace(r.stdout)
	if r.code != 0 || strings.Contains(path, "\n") || path == "" {
		t.Fatalf("install.sh: exit %d, stdout %q, want one path\n%s", r.code, r.stdout, r.stderr)
	}
	out, err := exec.Command(path).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, out)
	}
	return strings.TrimSpace(string(out))
}

// noGoPath is a PATH with what install.sh needs, but no go.
func noGoPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"bash", "env", "sed", "awk", "cut", "tr", "mktemp", "mkdir", "dirname", "rm", "chmod", "cp", "mv", "curl", "sha256sum", "cat", "uname"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s", tool)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeSource is a Go module standing in for the action's source.
func fakeSource(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/fake\n\ngo 1.21\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(\"built from source\", version) }\n",
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func allAssets() map[string][]byte {
	m := map[string][]byte{}
	for _, p := range platforms {
		m[p.asset] = fakeAsset(p.asset)
	}
	return m
}

func TestInstallPicksTheAssetOfEachRunner(t *testing.T) {
	t.Parallel()
	needBash(t)
	assets := allAssets()
	rel := serveRelease(t, "1.2.3", assets)
	dir := actionCopy(t, "1.2.3", assets)
	for _, p := range platforms {
		t.Run(p.runnerOS+"-"+p.runnerArch, func(t *testing.T) {
			r := script(t, filepath.Join(dir, "action/install.sh"), map[string]string{
				"RUNNER_OS": p.runnerOS, "RUNNER_ARCH": p.runnerArch, "INPUT_DOWNLOAD_URL": rel.URL, "PATH": noGoPath(t),
			})
			if got := runPath(t, r); got != "I am "+p.asset {
				t.Errorf("ran %q, want %s", got, p.asset)
			}
			if filepath.Base(strings.TrimSpace(r.stdout)) != p.asset {
				t.Errorf("path %q, want the asset's name", r.stdout)
			}
			if !strings.Contains(r.stderr, "sha256 verified") {
				t.Errorf("stderr: %s", r.stderr)
			}
		})
	}
	if n := rel.count(); n != len(platforms) {
		t.Errorf("%d downloads, want %d", n, len(platforms))
	}
}

func TestInstallUsesTheToolCacheAndVerifiesIt(t *testing.T) {
	t.Parallel()
	needBash(t)
	assets := allAssets()
	rel := serveRelease(t, "1.2.3", assets)
	dir := actionCopy(t, "1.2.3", assets)
	cache := t.TempDir()
	env := map[string]string{"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_TOOL_CACHE": cache, "CIRCLECI_TRIGGER_DOWNLOAD_URL": rel.URL}
	install := filepath.Join(dir, "action/install.sh")

	runPath(t, script(t, install, env))
	r := script(t, install, env)
	if got := runPath(t, r); got != "I am circleci-trigger_linux_amd64" || !strings.Contains(r.stderr, "from the tool cache") {
		t.Errorf("second run: %q\n%s", got, r.stderr)
	}
	if n := rel.count(); n != 1 {
		t.Errorf("%d downloads, want 1: the tool cache was not used", n)
	}

	// A cached binary that no longer matches is replaced, never run.
	cached := strings.TrimSpace(r.stdout)
	if err := os.WriteFile(cached, []byte("#!/bin/sh\necho tampered\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = script(t, install, env)
	if got := runPath(t, r); got != "I am circleci-trigger_linux_amd64" || !strings.Contains(r.stderr, "does not match the pinned sha256") {
		t.Errorf("after tampering with the cache: %q\n%s", got, r.stderr)
	}
	if n := rel.count(); n != 2 {
		t.Errorf("%d downloads, want 2", n)
	}
}

func TestInstallRefusesAChecksumMismatch(t *testing.T) {
	t.Parallel()
	needBash(t)
	canary := filepath.Join(t.TempDir(), "ran")
	served := allAssets()
	served["circleci-trigger_linux_amd64"] = []byte("#!/bin/sh\ntouch " + canary + "\n")
	rel := serveRelease(t, "1.2.3", served)
	dir := actionCopy(t, "1.2.3", allAssets())
	// run.sh installs and runs: the mismatching binary must not run, and
	// Go on PATH must not turn the refusal into a build.
	for _, github := range []string{"", "true"} {
		r := script(t, filepath.Join(dir, "action/run.sh"), map[string]string{
			"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "INPUT_DOWNLOAD_URL": rel.URL, "GITHUB_ACTIONS": github, "GITHUB_ACTION_PATH": fakeSource(t),
		})
		if r.code != 4 || !strings.Contains(r.stderr, "checksum mismatch") || !strings.Contains(r.stderr, "Refusing to run it") {
			t.Errorf("exit %d, want 4 and a checksum mismatch\n%s", r.code, r.stderr)
		}
		if github == "true" && !strings.Contains(r.stderr, "::error title=circleci-trigger::checksum mismatch") {
			t.Errorf("on GitHub, the error is not an annotation:\n%s", r.stderr)
		}
		if strings.Contains(r.stderr, "building it from source") || r.stdout != "" {
			t.Errorf("stdout %q, stderr:\n%s", r.stdout, r.stderr)
		}
		if _, err := os.Stat(canary); err == nil {
			t.Fatal("the binary that did not match ran")
		}
	}
}

func TestInstallBuildsFromSourceWithoutAPinnedRelease(t *testing.T) {
	t.Parallel()
	needBash(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go")
	}
	dir := actionCopy(t, "", nil)
	r := script(t, filepath.Join(dir, "action/install.sh"), map[string]string{
		"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "GITHUB_ACTION_PATH": fakeSource(t), "GITHUB_ACTION_REF": "feature/x",
		// A download would fail: nothing may be downloaded.
		"INPUT_DOWNLOAD_URL": "http://127.0.0.1:9",
	})
	if got := runPath(t, r); got != "built from source source-feature-x" {
		t.Errorf("ran %q\n%s", got, r.stderr)
	}
	if !strings.Contains(r.stderr, "pins no release") || !strings.Contains(r.stderr, "building it from source with go") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestInstallWithoutAReleaseOrGoSaysWhatToDo(t *testing.T) {
	t.Parallel()
	needBash(t)
	dir := actionCopy(t, "", nil)
	r := script(t, filepath.Join(dir, "action/install.sh"), map[string]string{
		"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": fakeSource(t), "PATH": noGoPath(t),
	})
	if r.code != 2 || r.stdout != "" {
		t.Errorf("exit %d, stdout %q: want 2 and nothing", r.code, r.stdout)
	}
	for _, want := range []string{"::error title=circleci-trigger::", "pins no release", "needs Go", "actions/setup-go", "commit SHA", "binary-path"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the error does not say %q:\n%s", want, r.stderr)
		}
	}
}

func TestInstallFallsBackToSourceWhenTheReleaseCannotBeHad(t *testing.T) {
	t.Parallel()
	needBash(t)
	assets := allAssets()
	rel := serveRelease(t, "1.2.3", nil) // 404 for everything
	dir := actionCopy(t, "1.2.3", assets)
	install := filepath.Join(dir, "action/install.sh")
	src := fakeSource(t)

	// Unreachable (e.g. GHES without github.com): the same ref's source.
	r := script(t, install, map[string]string{"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "INPUT_DOWNLOAD_URL": rel.URL, "GITHUB_ACTION_PATH": src})
	if got := runPath(t, r); !strings.HasPrefix(got, "built from source") || !strings.Contains(r.stderr, "could not download") {
		t.Errorf("ran %q\n%s", got, r.stderr)
	}
	// No binary for this platform (32-bit runners).
	r = script(t, install, map[string]string{"RUNNER_OS": "Windows", "RUNNER_ARCH": "X86", "GITHUB_ACTION_PATH": src})
	if got := runPath(t, r); !strings.HasPrefix(got, "built from source") || !strings.Contains(r.stderr, "has no binary for Windows/X86") {
		t.Errorf("ran %q\n%s", got, r.stderr)
	}
	// And without Go: what to do.
	r = script(t, install, map[string]string{"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "INPUT_DOWNLOAD_URL": rel.URL, "GITHUB_ACTION_PATH": src, "PATH": noGoPath(t)})
	if r.code != 2 || !strings.Contains(r.stderr, "download-url") || !strings.Contains(r.stderr, "binary-path") || !strings.Contains(r.stderr, "release v1.2.3 cannot be used here") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
}

func TestInstallUsesTheBinaryPathGiven(t *testing.T) {
	t.Parallel()
	needBash(t)
	assets := allAssets()
	rel := serveRelease(t, "1.2.3", assets)
	dir := actionCopy(t, "1.2.3", assets)
	install := filepath.Join(dir, "action/install.sh")
	mine := filepath.Join(t.TempDir(), "my-circleci-trigger")
	if err := os.WriteFile(mine, fakeAsset("mine"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"INPUT_BINARY_PATH", "CIRCLECI_TRIGGER_BINARY_PATH"} {
		r := script(t, install, map[string]string{k: mine, "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "INPUT_DOWNLOAD_URL": rel.URL, "PATH": noGoPath(t)})
		if got := runPath(t, r); got != "I am mine" || strings.TrimSpace(r.stdout) != mine {
			t.Errorf("%s: ran %q from %q", k, got, r.stdout)
		}
	}
	if n := rel.count(); n != 0 {
		t.Errorf("%d downloads with binary-path set", n)
	}
	r := script(t, install, map[string]string{"INPUT_BINARY_PATH": mine + ".missing"})
	if r.code != 2 || !strings.Contains(r.stderr, "binary-path: "+mine+".missing is not a file") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
}

// run.sh gives the binary the step's environment, without the dashed
// INPUT_ names act adds (GitHub's runner sets none for composite actions).
func TestRunPassesTheInputsAsTheRunnerDoes(t *testing.T) {
	t.Parallel()
	needBash(t)
	dir := actionCopy(t, "", nil)
	env := filepath.Join(t.TempDir(), "print-env")
	if err := os.WriteFile(env, []byte("#!/bin/sh\nenv\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := script(t, filepath.Join(dir, "action/run.sh"), map[string]string{
		"INPUT_BINARY_PATH": env, "INPUT_PROJECT_SLUG": "gh/acme/web", "INPUT_PROJECT-SLUG": "gh/acme/web", "INPUT_WAIT": "",
		"CIRCLECI_TRIGGER_WAIT": "true", "CIRCLECI_TRIGGER_SURFACE": "action",
	})
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	for _, want := range []string{"INPUT_PROJECT_SLUG=gh/acme/web", "INPUT_WAIT=", "CIRCLECI_TRIGGER_WAIT=true", "CIRCLECI_TRIGGER_SURFACE=action"} {
		if !contains(lines, want) {
			t.Errorf("the binary's environment lacks %s:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "INPUT_PROJECT-SLUG") {
		t.Errorf("the dashed name reached the binary:\n%s", r.stdout)
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

func TestPinAction(t *testing.T) {
	t.Parallel()
	needBash(t)
	dir := actionCopy(t, "", nil)
	pin := filepath.Join(dir, "scripts/pin-action.sh")
	install := filepath.Join(dir, "action/install.sh")
	write := func(s string) string {
		f := filepath.Join(t.TempDir(), "checksums.txt")
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	sum := func(c byte) string { return strings.Repeat(string(c), 64) }

	for _, tc := range []struct {
		name, version, sums, err string
	}{
		{"bad version", "1.2", sum('a') + "  circleci-trigger_linux_amd64\n", "bad version"},
		{"bad line", "1.2.3", sum('a') + " circleci-trigger_linux_amd64\n", "unexpected line"},
		{"no binaries", "1.2.3", sum('a') + "  orb.yml\n", "no circleci-trigger binaries"},
		{"windows without .exe", "1.2.3", sum('a') + "  circleci-trigger_windows_amd64\n", "no circleci-trigger binaries"},
	} {
		r := script(t, pin, nil, tc.version, write(tc.sums))
		if r.code != 2 || !strings.Contains(r.stderr, tc.err) {
			t.Errorf("%s: exit %d, want 2 and %q\n%s", tc.name, r.code, tc.err, r.stderr)
		}
	}
	before, _ := os.ReadFile(install)
	if strings.Contains(string(before), "PINNED_VERSION=\"1") {
		t.Fatal("a refused pin changed install.sh")
	}

	// A release's checksums: other files are left out, "*name" is read, and
	// pinning again replaces the pin.
	all := fmt.Sprintf("%s  circleci-trigger_linux_amd64\n%s *circleci-trigger_windows_arm64.exe\n%s  orb.yml\n", sum('a'), sum('b'), sum('c'))
	for _, v := range []string{"v1.2.3", "1.2.4-rc.1"} {
		r := script(t, pin, nil, v, write(all))
		if r.code != 0 || !strings.Contains(r.stderr, "warning: no circleci-trigger_darwin_arm64") {
			t.Fatalf("pin %s: exit %d\n%s", v, r.code, r.stderr)
		}
	}
	b, _ := os.ReadFile(install)
	got := string(b)
	want := "PINNED_VERSION=\"1.2.4-rc.1\"\nPINNED_SHA256SUMS='" + sum('a') + "  circleci-trigger_linux_amd64\n" + sum('b') + "  circleci-trigger_windows_arm64.exe'\n# END PINNED RELEASE"
	if !strings.Contains(got, want) || strings.Count(got, "PINNED_VERSION=") != 1 || strings.Contains(got, sum('c')) {
		t.Errorf("install.sh after pinning:\n%s", got)
	}
	if len(got)-len(before) != len(want)-len("PINNED_VERSION=\"\"\nPINNED_SHA256SUMS=\"\"\n# END PINNED RELEASE") {
		t.Errorf("pinning changed more than the pinned block")
	}
}
