package action_test

// The action as a GitHub runner runs it: act runs the workflows of
// testdata/workflows on this machine, the action builds the binary from its
// own source (no release is pinned outside release commits), and the binary
// talks to the simulator. Assertions are on the requests the simulator
// received, the step results, the outputs later steps see, and the job
// summary.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestTriggerAndUseTheOutputs(t *testing.T) {
	t.Parallel()
	s, host := simulator(t)
	r := act(t, "trigger.yml", host, actOptions{})
	if r.code != 0 {
		t.Errorf("act exited %d, want 0", r.code)
	}

	q := s.Matching("POST", "/project/gh/acme/api/pipeline")
	if len(q) != 1 {
		t.Fatalf("%d triggers of gh/acme/api, want 1", len(q))
	}
	// Configured the new way: no GHA_* parameters.
	if got, want := canonical(bodyOf(t, q[0])), `{"branch":"main","parameters":{"deploy":true,"replicas":2}}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}

	tr := r.step(t, "trigger")
	if tr.result != "success" {
		t.Errorf("trigger step: %q, want success", tr.result)
	}
	out := tr.outputs
	if !uuidRE.MatchString(out["id"]) || out["number"] != "1" || out["state"] == "" || out["created_at"] == "" || out["status"] != "triggered" ||
		!strings.Contains(out["url"], "1") {
		t.Errorf("outputs = %v", out)
	}
	later := r.step(t, "later").text()
	want := fmt.Sprintf("later saw id=%s number=1 state=%s created_at=%s url=%s status=triggered", out["id"], out["state"], out["created_at"], out["url"])
	if !strings.Contains(later, want) {
		t.Errorf("the later step saw:\n%s\nwant %q", later, want)
	}
	if !strings.Contains(tr.text(), "building it from source") {
		t.Errorf("uses: ./ did not build the binary from source:\n%s", tr.text())
	}

	// No token anywhere: the step fails, names the input and the usual cause.
	// (act reports the step as failed even with continue-on-error; the
	// check step reads its outcome as GitHub gives it.)
	nt := r.step(t, "no-token")
	if c := r.step(t, "check"); c.result != "success" {
		t.Errorf("the step without a token did not fail: check step %q", c.result)
	}
	if msg := nt.text(); !strings.Contains(msg, "token:") || !strings.Contains(strings.ToLower(msg), "fork") {
		t.Errorf("the missing token error should name the token: input and forks:\n%s", msg)
	}

	// A plain run: step is a CLI: no workflow commands, no token, one trigger.
	if n := len(s.Matching("POST", "/project/gh/acme/web/pipeline")); n != 1 {
		t.Errorf("%d triggers of gh/acme/web, want 1 (from the plain run: step)", n)
	}
	plain := r.step(t, "plain")
	for _, c := range plain.commands {
		if c != "set-output" && c != "summary" { // act shows GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as commands
			t.Errorf("the binary in a plain run: step issued the workflow command %q:\n%s", c, plain.text())
		}
	}
	if strings.Contains(plain.text(), token) {
		t.Errorf("the token is in the plain run: step's log:\n%s", plain.text())
	}
	assertNoTokenOutsideMasks(t, r)
}

func TestTriggerAndWait(t *testing.T) {
	t.Parallel()
	s, host := simulator(t)
	r := act(t, "wait.yml", host, actOptions{})
	if r.code != 0 {
		t.Errorf("act exited %d, want 0: the failing step continues on error", r.code)
	}

	api := r.step(t, "api")
	if api.result != "success" || api.outputs["status"] != "success" {
		t.Errorf("api: step %q, status %q, want success", api.result, api.outputs["status"])
	}
	var wfs []map[string]any
	if err := json.Unmarshal([]byte(api.outputs["workflows"]), &wfs); err != nil || len(wfs) != 1 || wfs[0]["name"] != "build" || wfs[0]["status"] != "success" {
		t.Errorf("workflows output = %s (%v)", api.outputs["workflows"], err)
	}
	// The summary leads with the pipeline: its number, link and status,
	// before the workflow rows.
	sum, url := api.summary, api.outputs["url"]
	switch {
	case sum == "":
		t.Error("the api step wrote no job summary")
	case url == "" || !strings.Contains(sum, url) || !strings.Contains(sum, "success"):
		t.Errorf("the summary does not show the pipeline %q and its status:\n%s", url, sum)
	case strings.Index(sum, url) > strings.Index(sum, "build"):
		t.Errorf("the summary does not lead with the pipeline:\n%s", sum)
	}

	m := r.step(t, "mobile")
	if m.outputs["status"] != "failed" {
		t.Errorf("mobile status = %q, want failed", m.outputs["status"])
	}
	check := r.step(t, "check")
	if check.result != "success" || !strings.Contains(check.text(), "mobile outcome=failure conclusion=success status=failed") {
		t.Errorf("the failed downstream did not fail its step (check %q):\n%s", check.result, check.text())
	}
	if !strings.Contains(check.text(), "api status=success workflows=[") {
		t.Errorf("the later step did not see the api outputs:\n%s", check.text())
	}
	for _, slug := range []string{"gh/acme/api", "gh/acme/mobile"} {
		if n := len(s.Matching("POST", "/project/"+slug+"/pipeline")); n != 1 {
			t.Errorf("%d triggers of %s, want 1", n, slug)
		}
	}
	if polled := s.Count("GET", "/pipeline/*/workflow"); polled < 2 {
		t.Errorf("%d workflow polls: did the steps wait?", polled)
	}
	assertNoTokenOutsideMasks(t, r)
}

func TestEnvironmentConfigurationIsNotOverridden(t *testing.T) {
	t.Parallel()
	s, host := simulator(t)
	r := act(t, "env-config.yml", host, actOptions{})
	if r.code != 0 {
		t.Errorf("act exited %d, want 0", r.code)
	}
	// CIRCLECI_TRIGGER_* only: the slug, parameters and wait come from env.
	docs := s.Matching("POST", "/project/gh/acme/docs/pipeline")
	if len(docs) != 1 {
		t.Fatalf("%d triggers of gh/acme/docs, want 1", len(docs))
	}
	if got, want := canonical(bodyOf(t, docs[0])), `{"parameters":{"upstream":7}}`; got != want {
		t.Errorf("body = %s, want %s (another project: no branch; configured the new way: no GHA_*)", got, want)
	}
	if st := r.step(t, "from-env").outputs["status"]; st != "success" {
		t.Errorf("from-env status = %q, want success: CIRCLECI_TRIGGER_WAIT=true was overridden", st)
	}
	// Inputs that are set win over the environment.
	if n := len(s.Matching("POST", "/project/gh/acme/web/pipeline")); n != 1 {
		t.Errorf("%d triggers of gh/acme/web, want 1: the project-slug input lost to the environment", n)
	}
	if st := r.step(t, "input-wins").outputs["status"]; st != "triggered" {
		t.Errorf("input-wins status = %q, want triggered: wait: false lost to CIRCLECI_TRIGGER_WAIT", st)
	}
	if !strings.Contains(r.step(t, "later").text(), "later saw from-env=success input-wins=triggered") {
		t.Errorf("later step:\n%s", r.step(t, "later").text())
	}
}

// The examples of CircleCI's official action (README and examples/), with
// only their uses: line changed, send what the official action sends.
func TestOfficialActionExamplesWithOnlyUsesChanged(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, event, slug string
		ref               map[string]any // branch or tag
		meta              string
	}{
		{"readme-release.yml", "release", "gh/acme/api", map[string]any{"tag": "v1.2.3"}, ""},
		{"readme-gha-meta.yml", "push", "gh/acme/api", map[string]any{"branch": "main"}, "<custom data>"},
		// The official action sends the current branch to another project too.
		{"readme-target-slug.yml", "push", "gh/acme/web", map[string]any{"branch": "main"}, ""},
		// pull_request: refs/pull/7/merge becomes pull/7/head.
		{"example-pull-request.yml", "pull_request", "gh/acme/api", map[string]any{"branch": "pull/7/head"}, ""},
		{"example-release.yml", "release", "gh/acme/api", map[string]any{"tag": "v1.2.3"}, ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			s, host := simulator(t)
			r := act(t, filepath.Join("official", tc.file), host, actOptions{event: tc.event})
			if r.code != 0 {
				t.Errorf("act exited %d, want 0", r.code)
			}
			q := s.Matching("POST", "/project/"+tc.slug+"/pipeline")
			if len(q) != 1 || len(s.Requests()) != 1 {
				t.Fatalf("%d triggers of %s, %d requests in all; want 1 and 1", len(q), tc.slug, len(s.Requests()))
			}
			b := bodyOf(t, q[0])
			params, _ := b["parameters"].(map[string]any)
			delete(b, "parameters")
			if got, want := canonical(b), canonical(tc.ref); got != want {
				t.Errorf("ref = %s, want %s", got, want)
			}
			// GITHUB_ACTION is the step's id on GitHub's runner; act gives
			// the action's own step id inside a composite action.
			if a := params["GHA_Action"]; a != "trigger" && a != "circleci-trigger" {
				t.Errorf("GHA_Action = %v, want the step id", a)
			}
			delete(params, "GHA_Action")
			want := map[string]any{"GHA_Actor": "octocat", "GHA_Event": tc.event}
			if tc.meta != "" {
				want["GHA_Meta"] = tc.meta
			}
			if got := canonical(params); got != canonical(want) {
				t.Errorf("parameters (but GHA_Action) = %s, want %s", got, canonical(want))
			}
			st := r.step(t, "trigger")
			if st.result != "success" {
				t.Errorf("step: %q, want success", st.result)
			}
			for _, k := range []string{"id", "number", "state", "created_at"} {
				if st.outputs[k] == "" {
					t.Errorf("output %s is empty: %v", k, st.outputs)
				}
			}
			assertNoTokenOutsideMasks(t, r)
		})
	}
}

func TestBinaryPathIsUsed(t *testing.T) {
	t.Parallel()
	s, host := simulator(t)
	r := act(t, "binary-path.yml", host, actOptions{})
	if r.code != 0 {
		t.Errorf("act exited %d, want 0", r.code)
	}
	st := r.step(t, "trigger")
	if !strings.Contains(st.text(), "(binary-path)") || strings.Contains(st.text(), "building it from source") {
		t.Errorf("binary-path was not used as is:\n%s", st.text())
	}
	if n := len(s.Matching("POST", "/project/gh/acme/web/pipeline")); n != 1 {
		t.Errorf("%d triggers, want 1", n)
	}
}

// A release commit of the action (pin-action.sh) downloads its pinned
// binary, and refuses one whose sha256 differs.
func TestPinnedReleaseIsVerified(t *testing.T) {
	t.Parallel()
	dir, binary := stage(t)
	good, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(good)
	asset := fmt.Sprintf("circleci-trigger_linux_%s", runtime.GOARCH)

	pinned := filepath.Join(t.TempDir(), "action")
	if err := copyTree(dir, pinned); err != nil {
		t.Fatal(err)
	}
	sums := filepath.Join(t.TempDir(), "checksums.txt")
	if err := os.WriteFile(sums, []byte(hex.EncodeToString(sum[:])+"  "+asset+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("bash", filepath.Join(pinned, "scripts", "pin-action.sh"), "9.9.9", sums).CombinedOutput(); err != nil {
		t.Fatalf("pin-action.sh: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		name   string
		served []byte
	}{
		{"matching", good},
		{"tampered", []byte("#!/bin/sh\ntouch \"$CANARY\"\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			rel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v9.9.9/"+asset {
					http.NotFound(w, r)
					return
				}
				hits.Add(1)
				w.Write(tc.served)
			}))
			defer rel.Close()
			canary := filepath.Join(t.TempDir(), "ran")
			s, host := simulator(t)
			r := act(t, "pinned.yml", host, actOptions{
				env:     map[string]string{"RELEASES_URL": rel.URL, "CANARY": canary},
				actions: map[string]string{actionRepo + "@v9.9.9": pinned},
			})
			st := r.step(t, "trigger")
			if hits.Load() != 1 {
				t.Errorf("%d downloads of %s, want 1", hits.Load(), asset)
			}
			if tc.name == "matching" {
				if r.code != 0 || st.result != "success" || len(s.Matching("POST", "/project/gh/acme/web/pipeline")) != 1 {
					t.Errorf("act exited %d, step %q, %d triggers: want 0, success, 1", r.code, st.result, len(s.Matching("POST", "/project/gh/acme/web/pipeline")))
				}
				if !strings.Contains(st.text(), "sha256 verified") || strings.Contains(st.text(), "building it from source") {
					t.Errorf("the pinned release was not the binary run:\n%s", st.text())
				}
				return
			}
			if r.code == 0 || st.result != "failure" {
				t.Errorf("act exited %d, step %q: want a failure", r.code, st.result)
			}
			if !strings.Contains(st.text(), "checksum mismatch") {
				t.Errorf("no checksum mismatch error:\n%s", st.text())
			}
			if _, err := os.Stat(canary); err == nil || len(s.Requests()) > 0 {
				t.Errorf("the tampered binary ran (%d requests)", len(s.Requests()))
			}
		})
	}
}

// assertNoTokenOutsideMasks: act runs with --insecure-secrets, so a token
// printed anywhere shows; only the ::add-mask:: command may carry it.
func assertNoTokenOutsideMasks(t *testing.T, r *actRun) {
	t.Helper()
	for id, s := range r.steps {
		for _, l := range s.lines {
			if strings.Contains(l, token) && !strings.Contains(l, "add-mask") {
				t.Errorf("step %s printed the token: %q", id, l)
			}
		}
		if slices.Contains(s.commands, "set-output") {
			for k, v := range s.outputs {
				if strings.Contains(v, token) {
					t.Errorf("step %s output %s holds the token", id, k)
				}
			}
		}
	}
}

func TestOfficialActionEnvironmentAndOptOut(t *testing.T) {
	t.Parallel()
	s, host := simulator(t)
	r := act(t, "compat.yml", host, actOptions{})
	if r.code != 0 {
		t.Errorf("act exited %d, want 0", r.code)
	}
	web := s.Matching("POST", "/project/gh/acme/web/pipeline")
	if len(web) != 1 {
		t.Fatalf("%d triggers of gh/acme/web (TARGET_SLUG), want 1", len(web))
	}
	b := bodyOf(t, web[0])
	params, _ := b["parameters"].(map[string]any)
	if a := params["GHA_Action"]; a != "target-env" && a != "circleci-trigger" {
		t.Errorf("GHA_Action = %v, want the step id", a)
	}
	delete(params, "GHA_Action")
	want := `{"branch":"main","parameters":{"GHA_Actor":"octocat","GHA_Event":"push","GHA_Meta":"from parameters","upstream":3}}`
	if got := canonical(b); got != want {
		t.Errorf("body (but GHA_Action) = %s, want %s", got, want)
	}
	docs := s.Matching("POST", "/project/gh/acme/docs/pipeline")
	if len(docs) != 1 {
		t.Fatalf("%d triggers of gh/acme/docs, want 1", len(docs))
	}
	if p, ok := bodyOf(t, docs[0])["parameters"].(map[string]any); ok && len(p) > 0 {
		t.Errorf("gha-parameters: false sent parameters %v", p)
	}
	for _, id := range []string{"target-env", "opt-out"} {
		if st := r.step(t, id); st.result != "success" {
			t.Errorf("step %s: %q", id, st.result)
		}
	}
}
