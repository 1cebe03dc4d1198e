package cli_test

// The promises of one request, one pipeline, a truthful status and no
// token in any output, against a simulator that answers late, lies, lags
// and skews its clock. Each case is one seen in the wild.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

const wantParams = `{"env": "a&b<c>", "replicas": 2}`

// api is the world's gh/acme/api project, changed by change.
func api(change func(p *circlecitest.Project), faults ...circlecitest.Fault) *circlecitest.Scenario {
	sc := clitest.WithFaults(faults...)
	for i := range sc.Projects {
		if sc.Projects[i].Slug == "gh/acme/api" {
			change(&sc.Projects[i])
		}
	}
	return sc
}

func noChange(*circlecitest.Project) {}

// createdAnyway is a POST that creates the pipeline and then fails: the
// answer a client must not meet by sending again blindly.
func createdAnyway(status, count int) circlecitest.Fault {
	return circlecitest.Fault{Method: "POST", Path: "/project/*", Status: status, Count: count, AfterEffect: true}
}

// Every ambiguous failure ends with exactly one pipeline, adopted.
func TestAmbiguousTriggerCreatesOnePipeline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sc   *circlecitest.Scenario
	}{
		{"parameter values with & < >", api(noChange, createdAnyway(502, 1))},
		{"pipeline/mine lags", api(func(p *circlecitest.Project) { p.ListLag = circlecitest.Duration(6 * time.Second) }, createdAnyway(502, 1))},
		{"every POST fails after creating, and the list lags", api(func(p *circlecitest.Project) { p.ListLag = circlecitest.Duration(6 * time.Second) }, createdAnyway(500, 0))},
		{"the new pipeline is on the third page", api(func(p *circlecitest.Project) {
			p.Noise = []circlecitest.Extra{}
			for range 45 {
				p.Noise = append(p.Noise, circlecitest.Extra{Parameters: map[string]any{"env": "other"}, After: true})
			}
		}, createdAnyway(502, 1))},
		{"the server's clock is behind", func() *circlecitest.Scenario {
			sc := api(noChange, createdAnyway(502, 1))
			sc.ClockSkew = circlecitest.Duration(-3 * time.Minute)
			return sc
		}()},
		{"the server's clock is ahead", func() *circlecitest.Scenario {
			sc := api(noChange, createdAnyway(502, 1))
			sc.ClockSkew = circlecitest.Duration(3 * time.Minute)
			return sc
		}()},
		{"an answer lost after a long delay", api(noChange, circlecitest.Fault{Method: "POST", Path: "/project/*", Delay: circlecitest.Duration(40 * time.Second), Drop: true, Count: 1, AfterEffect: true})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--branch", "main", "--parameters", wantParams, "--json")
			p.Scenario = tc.sc
			r := p.Run()
			r.Expect(t, 0, "looking for a pipeline it may have created")
			if n := r.Sim.PipelineCount("gh/acme/api"); n != 1 {
				t.Fatalf("%d pipelines for one request\n%s", n, r.Stderr)
			}
			if !strings.Contains(r.Stdout, `"number": 1,`) || !strings.Contains(r.Stderr, "found after a lost answer") {
				t.Errorf("did not adopt pipeline #1:\n%s\n%s", r.Stdout, r.Stderr)
			}
		})
	}
}

// A pipeline this request did not create is never adopted: another
// parameter set, another project, an older pipeline that a skewed clock
// makes look new, or one another target already claimed.
func TestNeverAdoptsAnotherPipeline(t *testing.T) {
	t.Parallel()
	lost := circlecitest.Fault{Method: "POST", Path: "/project/*", Status: 502, Count: 1} // nothing created
	throttled := circlecitest.Fault{Method: "POST", Path: "/project/*", Status: 429, RetryAfter: "20", Count: 1}
	for _, tc := range []struct {
		name string
		sc   *circlecitest.Scenario
	}{
		{"same user and branch, a requested parameter missing", api(func(p *circlecitest.Project) {
			p.Noise = []circlecitest.Extra{{Parameters: map[string]any{}, After: true}}
		}, createdAnyway(502, 1))},
		{"same user and branch, another value", api(func(p *circlecitest.Project) {
			p.Noise = []circlecitest.Extra{{Parameters: map[string]any{"env": "prod", "replicas": 2}, After: true}}
		}, createdAnyway(502, 1))},
		{"an older look-alike, the server's clock ahead", func() *circlecitest.Scenario {
			sc := api(func(p *circlecitest.Project) {
				p.Seed = []circlecitest.Extra{{Branch: "main", Parameters: map[string]any{"env": "a&b<c>", "replicas": 2}}}
			}, throttled, lost)
			sc.ClockSkew = circlecitest.Duration(3 * time.Minute)
			return sc
		}()},
		{"a look-alike of another project in the list", api(func(p *circlecitest.Project) {
			p.Seed = []circlecitest.Extra{{Branch: "main", Parameters: map[string]any{"env": "a&b<c>", "replicas": 2}, Slug: "gh/acme/web"}}
		}, throttled, lost)},
		{"another user's look-alike", api(func(p *circlecitest.Project) {
			p.Seed = []circlecitest.Extra{{Actor: "someone-else", Branch: "main", Parameters: map[string]any{"env": "a&b<c>", "replicas": 2}}}
		}, throttled, lost)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--branch", "main", "--parameters", wantParams, "--json")
			p.Scenario = tc.sc
			r := p.Run()
			r.Expect(t, 0)
			if n := r.Sim.PipelineCount("gh/acme/api"); n != 1 {
				t.Fatalf("%d pipelines created by the client, want 1\n%s", n, r.Stderr)
			}
			created := r.Sim.Created("gh/acme/api")
			if len(created) != 1 || !strings.Contains(r.Stdout, `"id": "`+created[0]+`"`) {
				t.Errorf("reported a pipeline it did not create (created %v):\n%s", created, r.Stdout)
			}
		})
	}
}

// Two targets of one project and branch, with disjoint parameters, each
// adopt their own pipeline after both answers were lost.
func TestFanoutTargetsNeverShareAPipeline(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--json", "--targets", `[{"project-slug":"gh/acme/api","branch":"main","parameters":{"env":"a"}},
		{"project-slug":"gh/acme/api","branch":"main","parameters":{"replicas":3}}]`)
	p.Scenario = api(noChange, createdAnyway(502, 2))
	r := p.Run()
	r.Expect(t, 0)
	res := parseResults(t, r.Stdout)
	if n := r.Sim.PipelineCount("gh/acme/api"); n != 2 || len(res.Results) != 2 || res.Results[0].Number == res.Results[1].Number {
		t.Errorf("%d pipelines; results %+v", n, res.Results)
	}
}

// A Retry-After longer than what is left is not waited out: the run ends
// within its timeout, and nothing is sent late.
func TestRetryAfterBeyondTheDeadline(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--timeout", "10s")
	p.Scenario = clitest.WithFaults(circlecitest.Fault{Method: "POST", Path: "/project/*", Status: 429, RetryAfter: "300", Count: 1})
	r := p.Run()
	r.Expect(t, 4, "429", "10s")
	if r.Elapsed > 11*time.Second {
		t.Errorf("ran for %s with a 10s timeout", r.Elapsed)
	}
	if n := r.Sim.Count("POST", "*"); n != 1 {
		t.Errorf("%d POSTs", n)
	}
}

// --pipeline-id rides out a server error on its first read.
func TestExistingPipelineSurvivesAFirstError(t *testing.T) {
	t.Parallel()
	for _, f := range []circlecitest.Fault{
		{Method: "GET", Path: "/pipeline/*", Status: 500, Count: 1},
		{Method: "GET", Path: "/pipeline/*", Status: 429, RetryAfter: "2", Count: 1},
	} {
		p := clitest.Cmdline(t)
		p.Scenario = clitest.WithFaults(f)
		p.Prepare = func(s *circlecitest.Simulator) {
			id, err := s.CreateAs(circlecitest.DefaultUser, "gh/acme/web", "main", nil)
			if err != nil {
				t.Fatal(err)
			}
			p.Args = append(p.Args, "--pipeline-id", id)
		}
		r := p.Run()
		r.Expect(t, 0, "build")
	}
}

// Dynamic config on an older CircleCI server: the setup workflow carries
// no tag, and success is not declared before the continuation appears.
func TestSetupWorkflowWithoutTag(t *testing.T) {
	t.Parallel()
	p := waitFor(t, "gh/acme/dynamic")
	p.Scenario = api(noChange)
	for i := range p.Scenario.Projects {
		if p.Scenario.Projects[i].Slug == "gh/acme/dynamic" {
			p.Scenario.Projects[i].Pipeline.Workflows[0].HideTag = true
			p.Scenario.Projects[i].Pipeline.Workflows[1].Appear = circlecitest.Duration(5 * time.Second)
		}
	}
	r := p.Run()
	r.Expect(t, 1, "deploy                   failed", "job apply")
}

// A host that does not exist fails at once, with a hint, and is not retried.
func TestUnknownHostFailsFast(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		&net.DNSError{Err: "no such host", Name: "circleci.exmaple.com", IsNotFound: true},
		&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}},
	} {
		p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait")
		p.Transport = failing{err}
		r := p.Run()
		r.Expect(t, 4, "check the host")
		if r.Elapsed > time.Second {
			t.Errorf("%v: retried for %s", err, r.Elapsed)
		}
	}
}

type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

// hostileNames are workflow and job names a server could send: they must
// neither issue a workflow command, nor add or rewrite an output, nor break
// the job summary, nor carry the token out.
var hostileNames = []string{"::warning::pwned", "::stop-commands::resume", "build | test\n::error::forged\nstatus<<EOF", "leak " + clitest.Token}

func hostileWorld() *circlecitest.Scenario {
	sc := api(func(p *circlecitest.Project) {
		p.Pipeline.Workflows = nil
		for _, n := range hostileNames {
			p.Pipeline.Workflows = append(p.Pipeline.Workflows, circlecitest.WorkflowSpec{Name: n, Duration: circlecitest.Duration(3 * time.Second),
				Status: "failed", Jobs: []circlecitest.JobSpec{{Name: n, Status: "failed"}}})
		}
	}, circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Status: 500, EchoToken: true, Count: 1})
	return sc
}

func TestServerStringsAreData(t *testing.T) {
	t.Parallel()
	p := clitest.GitHub(t, map[string]string{"project-slug": "gh/acme/api", "wait": "true"})
	p.Scenario = hostileWorld()
	r := p.Run()
	r.Expect(t, 1, "Token: [token]") // the echoed token, redacted, in the warning about the 500
	lines := strings.Split(r.Stdout, "\n")
	if !strings.HasPrefix(lines[0], "::add-mask::") {
		t.Errorf("the token is not masked first: %q", lines[0])
	}
	for _, l := range lines[1:] {
		l = strings.TrimLeft(l, " \t")
		for _, forged := range []string{"::warning::pwned", "::stop-commands::", "::error::forged"} {
			if strings.HasPrefix(l, forged) {
				t.Errorf("a server string issued a workflow command: %q", l)
			}
		}
	}
	leaks := strings.Join(lines[1:], "\n") + r.Stderr + r.Summary + strings.Join(slices.Collect(maps.Values(r.Outputs)), "\n")
	if strings.Contains(leaks, clitest.Token) {
		t.Errorf("the token is in an output:\n%s", leaks)
	}
	if got := slices.Sorted(maps.Keys(r.Outputs)); !slices.Equal(got, []string{"created_at", "id", "number", "state", "status", "url", "workflows"}) {
		t.Errorf("outputs %v", got)
	}
	if r.Outputs["status"] != "failed" {
		t.Errorf("status output %q", r.Outputs["status"])
	}
	var wfs []map[string]any
	if err := json.Unmarshal([]byte(r.Outputs["workflows"]), &wfs); err != nil || len(wfs) != len(hostileNames) {
		t.Errorf("workflows output %q: %v", r.Outputs["workflows"], err)
	}
	// Every row of the summary's table has the header's cells.
	rows := 0
	for _, l := range strings.Split(r.Summary, "\n") {
		if strings.HasPrefix(l, "|") {
			rows++
			if n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"); n != 4 {
				t.Errorf("summary row %q has %d separators, want 4", l, n)
			}
		}
	}
	if rows != 2+2*len(hostileNames) {
		t.Errorf("%d summary rows, want %d:\n%s", rows, 2+2*len(hostileNames), r.Summary)
	}

	// The CLI: no token anywhere, and --json is one JSON object.
	p = clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait", "--json")
	p.Scenario = hostileWorld()
	r = p.Run()
	var out map[string]any
	if r.Code != 1 || json.Unmarshal([]byte(r.Stdout), &out) != nil || strings.Contains(r.Stdout+r.Stderr, clitest.Token) {
		t.Errorf("CLI: exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}
