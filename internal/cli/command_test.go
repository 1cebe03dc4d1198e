// Command tests: cli.Command runs in-process (see internal/clitest) with
// the environment a shell, a GitHub runner or a CircleCI job gives it,
// against the simulator, on virtual time. The tests that need the built
// binary in a real process (signals, --version) are the module root's.
package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

func TestTriggerByBranchWithTypedParameters(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--branch", "feature/x", "--parameters", `{"deploy": true, "env": "prod", "replicas": 3}`).Run()
	r.Expect(t, 0, "Pipeline #1 of gh/acme/api on branch feature/x triggered: http://127.0.0.1:", "/pipelines/github/acme/api/1")
	posts := r.Requests("POST", "/project/gh/acme/api/pipeline")
	if len(posts) != 1 {
		t.Fatalf("%d POSTs", len(posts))
	}
	q := posts[0]
	if got, want := clitest.JSONOf(clitest.Body(t, q)), `{"branch":"feature/x","parameters":{"deploy":true,"env":"prod","replicas":3}}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if q.ContentType != "application/json" || q.Accept != "application/json" || !strings.HasPrefix(q.UserAgent, "circleci-trigger/") || q.Auth != "circle-token" {
		t.Errorf("headers: %+v", q)
	}
	if len(r.Sim.Requests()) != 1 {
		t.Errorf("without wait, %d requests, want the trigger only", len(r.Sim.Requests()))
	}
}

func TestTriggerByTag(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--tag", "v1.2.0").Run()
	r.Expect(t, 0, "on tag v1.2.0")
	if got := clitest.JSONOf(clitest.Body(t, r.Requests("POST", "/project/*/pipeline")[0])); got != `{"tag":"v1.2.0"}` {
		t.Errorf("body = %s", got)
	}
}

func TestTriggerThroughPipelineRun(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--project-slug", "github/acme/api", "--branch", "main", "--definition-id", "2338d0ae-5541-4bbf-88a2-55e9f7281f80", "--parameters", `{"deploy":false}`).Run()
	r.Expect(t, 0, "Pipeline #1")
	q := r.Requests("POST", "/project/*/pipeline/run")
	if len(q) != 1 || q[0].Path != "/project/gh/acme/api/pipeline/run" {
		t.Fatalf("requests: %+v", r.Sim.Requests())
	}
	want := `{"checkout":{"branch":"main"},"config":{"branch":"main"},"definition_id":"2338d0ae-5541-4bbf-88a2-55e9f7281f80","parameters":{"deploy":false}}`
	if got := clitest.JSONOf(clitest.Body(t, q[0])); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestPipelineRunThatCreatesNothing(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--project-slug", "circleci/Org1/Proj1", "--definition-id", "11111111-2222-4333-8444-555555555555", "--wait", "--json").Run()
	r.Expect(t, 0, "Ignoring pipeline due to CI skip in the commit")
	var out map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || out["status"] != "not-created" || out["id"] != "" {
		t.Errorf("json = %s (%v)", r.Stdout, err)
	}
	if len(r.Sim.Requests()) != 1 {
		t.Errorf("%d requests: nothing to wait for", len(r.Sim.Requests()))
	}
}

func TestGitHubAction(t *testing.T) {
	t.Parallel()
	r := clitest.GitHub(t, map[string]string{"parameters": `{"deploy": true}`}).With("GITHUB_REF", "refs/heads/feature/y").Run()
	r.Expect(t, 0)
	if !strings.HasPrefix(r.Stdout, "::add-mask::"+clitest.Token+"\n") {
		t.Errorf("the token is not masked first:\n%s", r.Stdout)
	}
	if got := clitest.JSONOf(clitest.Body(t, r.Requests("POST", "/project/gh/acme/api/pipeline")[0])); got != `{"branch":"feature/y","parameters":{"deploy":true}}` {
		t.Errorf("body = %s", got)
	}
	o := r.Outputs
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(o["id"]) || o["number"] != "1" || o["state"] != "pending" || o["status"] != "triggered" ||
		!strings.HasSuffix(o["url"], "/pipelines/github/acme/api/1") || o["created_at"] == "" || o["workflows"] != "[]" {
		t.Errorf("outputs = %v", o)
	}
}

// Outside a runner's step (no GITHUB_OUTPUT, no GITHUB_STEP_SUMMARY), the
// Action mode must still work, not panic.
func TestGitHubWithoutOutputFiles(t *testing.T) {
	t.Parallel()
	r := clitest.GitHub(t, map[string]string{"wait": "true", "poll-interval": "1s"}).With("NO_FILES", "1").Run()
	r.Expect(t, 0, "Pipeline #1 of gh/acme/api")
	if strings.Contains(r.Stderr, "panic") {
		t.Errorf("stderr:\n%s", r.Stderr)
	}
}

func TestGitHubPullRequestFromAFork(t *testing.T) {
	t.Parallel()
	ev := filepath.Join(t.TempDir(), "event.json")
	os.WriteFile(ev, []byte(`{"pull_request":{"head":{"repo":{"full_name":"someone/api"}},"base":{"repo":{"full_name":"acme/api"}}}}`), 0o600)
	r := clitest.GitHub(t, nil).With("GITHUB_EVENT_NAME", "pull_request", "GITHUB_REF", "refs/pull/42/merge", "GITHUB_HEAD_REF", "patch-1", "GITHUB_EVENT_PATH", ev).Run()
	r.Expect(t, 0)
	if got := clitest.JSONOf(clitest.Body(t, r.Requests("POST", "/project/*/pipeline")[0])); got != `{"branch":"pull/42/head"}` {
		t.Errorf("body = %s", got)
	}
}

func TestCircleCIEnvironment(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t).With("CIRCLECI", "true", "CIRCLE_PROJECT_USERNAME", "acme", "CIRCLE_PROJECT_REPONAME", "api",
		"CIRCLE_REPOSITORY_URL", "git@github.com:acme/api.git", "CIRCLE_BRANCH", "feature/z", "CIRCLECI_TRIGGER_PARAMETERS", `{"env":"staging"}`).Run()
	r.Expect(t, 0, "on branch feature/z")
	if got := clitest.JSONOf(clitest.Body(t, r.Requests("POST", "/project/gh/acme/api/pipeline")[0])); got != `{"branch":"feature/z","parameters":{"env":"staging"}}` {
		t.Errorf("body = %s", got)
	}
}

func TestJSONOutput(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait", "--poll-interval", "1s", "--json").Run()
	r.Expect(t, 0)
	var out struct {
		ID, State, Status, URL string
		Number                 int
		Workflows              []struct{ Name, ID, Status, URL string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.Stdout)
	}
	if out.Number != 1 || out.Status != "success" || out.State != "created" || len(out.Workflows) != 2 || out.Workflows[0].Status != "success" || !strings.Contains(out.Workflows[1].URL, "/workflows/"+out.Workflows[1].ID) {
		t.Errorf("json = %+v", out)
	}
	if !strings.Contains(r.Stderr, "WORKFLOW") {
		t.Errorf("the table should go to stderr with --json:\n%s", r.Stderr)
	}
}

// Every bad input: exit 2, a one-line message saying what to fix, and
// nothing sent.
func TestBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    func(*testing.T) *clitest.Process
		want string
	}{
		{"slug", func(t *testing.T) *clitest.Process { return clitest.Cmdline(t, "--project-slug", "gitlab/a/b") }, "must start with gh/"},
		{"branch and tag", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--branch", "a", "--tag", "b")
		}, "exclusive"},
		{"parameters", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--parameters", "deploy=true")
		}, "must be a JSON object"},
		{"nested", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--parameters", `{"a":[1]}`)
		}, "nested array"},
		{"float", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--parameters", `{"a":0.5}`)
		}, "only integers"},
		{"too many", func(t *testing.T) *clitest.Process {
			var kv []string
			for i := range 101 {
				kv = append(kv, fmt.Sprintf(`"p%d":1`, i))
			}
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--parameters", "{"+strings.Join(kv, ",")+"}")
		}, "at most 100"},
		{"key length", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--parameters", `{"`+strings.Repeat("k", 129)+`":1}`)
		}, "at most 128"},
		{"no token", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api").With("CIRCLE_TOKEN", "")
		}, "no token"},
		{"circleci slug", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "circleci/Org1/Proj1")
		}, "set definition-id"},
		{"plain http", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--host", "http://ci.example.com")
		}, "use https"},
		{"duration", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait", "--timeout", "10 minutes")
		}, "not a duration"},
		{"on-hold", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--on-hold", "skip")
		}, "not wait, succeed or fail"},
		{"github input", func(t *testing.T) *clitest.Process { return clitest.GitHub(t, map[string]string{"on-hold": "later"}) }, "::error::on-hold"},
		{"targets", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--targets", `[{"project-slug":"gh/acme/api"},{"project-slug":"nope"}]`)
		}, "targets[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.p(t).Run()
			r.Expect(t, 2, tc.want)
			if n := len(r.Sim.Requests()); n != 0 {
				t.Errorf("%d requests were sent", n)
			}
		})
	}
}

func TestAPIErrorsAndTheirExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		p    func(*testing.T) *clitest.Process
		code int
		want []string
	}{
		{"wrong token", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api").With("CIRCLE_TOKEN", "fake-wrong")
		}, 3,
			[]string{"401 Unauthorized: Invalid token provided.", "check that the token is a valid personal API token"}},
		{"unknown project", func(t *testing.T) *clitest.Process { return clitest.Cmdline(t, "--project-slug", "gh/acme/nope") }, 5,
			[]string{"404 Not Found: Project not found", "a project API token also gets 404"}},
		{"unknown branch", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--branch", "nope")
		}, 7,
			[]string{"400 Bad Request: Branch not found"}},
		{"undeclared parameter refused", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/strict", "--parameters", `{"foo":1}`)
		}, 7, []string{"Unexpected argument(s): foo"}},
		{"undeclared parameter errors the pipeline", func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--parameters", `{"foo":1}`, "--wait", "--poll-interval", "1s")
		}, 1, []string{"pipeline errored: config: Unexpected argument(s): foo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.p(t).Run()
			r.Expect(t, tc.code, tc.want...)
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--help").Run()
	r.Expect(t, 0, "Usage:", "Examples:", "--project-slug SLUG", "--timeout DURATION", "--on-hold wait|succeed|fail",
		"--targets JSON|FILE", "Environment:", "Exit codes:", "CIRCLE_TOKEN")
	r = clitest.Cmdline(t, "--projct-slug", "gh/acme/api").Run()
	if r.Code != 2 || r.Stderr != "circleci-trigger: unknown flag --projct-slug (see --help)\n" || r.Stdout != "" {
		t.Errorf("a typo: %d %q %q, want one line", r.Code, r.Stdout, r.Stderr)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r = clitest.Cmdline(t, "completion", sh).Run()
		if r.Code != 0 || !strings.Contains(r.Stdout, "circleci-trigger") || !strings.Contains(r.Stdout, "project-slug") ||
			!strings.Contains(r.Stdout, "wait succeed fail") || strings.Contains(r.Stdout, "%!") {
			t.Errorf("completion %s: %d\n%s%s", sh, r.Code, r.Stdout, r.Stderr)
		}
	}
	if r = clitest.Cmdline(t, "completion", "powershell").Run(); r.Code != 2 || !strings.Contains(r.Stderr, "completion bash|zsh|fish") {
		t.Errorf("completion powershell: %d %q", r.Code, r.Stderr)
	}
}

// The token appears in no output, log line, URL or error, in any mode.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	for _, p := range []func(*testing.T) *clitest.Process{
		func(t *testing.T) *clitest.Process { return clitest.Cmdline(t, "--project-slug", "gh/acme/api") },
		func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/failing", "--wait", "--poll-interval", "1s", "--json")
		},
		func(t *testing.T) *clitest.Process { return clitest.Cmdline(t, "--project-slug", "gh/acme/nope") },
		func(t *testing.T) *clitest.Process { return clitest.Cmdline(t, "--project-slug", "bad") },
		func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--targets", `[{"project-slug":"gh/acme/web"},{"project-slug":"gh/acme/nope"}]`, "--wait", "--poll-interval", "1s")
		},
		func(t *testing.T) *clitest.Process {
			return clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--timeout", "2s").With("CIRCLE_HOST", "http://127.0.0.1:1")
		},
		func(t *testing.T) *clitest.Process {
			return clitest.GitHub(t, map[string]string{"wait": "true", "poll-interval": "1s", "project-slug": "gh/acme/failing"})
		},
		func(t *testing.T) *clitest.Process {
			return clitest.GitHub(t, map[string]string{"project-slug": "gh/acme/nope"})
		},
	} {
		r := p(t).Run()
		stdout := strings.Replace(r.Stdout, "::add-mask::"+clitest.Token+"\n", "", 1)
		for where, s := range map[string]string{"stdout": stdout, "stderr": r.Stderr, "outputs": clitest.JSONOf(r.Outputs), "summary": r.Summary} {
			if strings.Contains(s, clitest.Token) || strings.Contains(s, clitest.Token[:16]) {
				t.Errorf("the token is in %s:\n%s", where, s)
			}
		}
		for _, q := range r.Sim.Requests() {
			if strings.Contains(q.RawURL(), clitest.Token[:16]) || strings.Contains(q.Query, clitest.Token[:16]) {
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
// and no token is printed, and no output file is written; the job summary
// is, as wherever GitHub gives a summary file.
func TestRunStepOnGitHubIsACLI(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait", "--json").With("GITHUB_ACTIONS", "true", "GITHUB_REPOSITORY", "acme/api",
		"GITHUB_REF", "refs/heads/main", "GITHUB_EVENT_NAME", "push")
	r := p.Run()
	var out map[string]any
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &out) != nil || out["status"] != "success" {
		t.Fatalf("exit %d, stdout:\n%s", r.Code, r.Stdout)
	}
	if strings.Contains(r.Stdout+r.Stderr, "::") || strings.Contains(r.Stdout+r.Stderr+r.Summary, clitest.Token) || len(r.Outputs) != 0 {
		t.Errorf("a run: step printed workflow commands or wrote outputs:\n%s\n%s\n%v", r.Stdout, r.Stderr, r.Outputs)
	}
	if !strings.Contains(r.Summary, "[#1 of gh/acme/api]") {
		t.Errorf("a run: step wrote no job summary:\n%s", r.Summary)
	}
}
