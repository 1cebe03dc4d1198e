package cli_test

// Command-level tests of issue 15: the wait that follows CircleCI's
// insights, sharding, and the shared rate budget.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

// history is a project whose 10-minute build has insights (or not).
func history(runs int, wfs ...circlecitest.WorkflowSpec) *circlecitest.Scenario {
	sc := &circlecitest.Scenario{Tokens: []string{clitest.Token}, Seed: 7}
	if len(wfs) == 0 {
		wfs = []circlecitest.WorkflowSpec{{Name: "build", Duration: circlecitest.Duration(10 * time.Minute), Spread: 0.05}}
	}
	p := circlecitest.Project{Slug: "gh/acme/api", Pipeline: circlecitest.Timeline{Workflows: wfs}}
	if runs > 0 {
		p.Insights = &circlecitest.Insights{Runs: runs}
	}
	sc.Projects = []circlecitest.Project{p}
	return sc
}

func TestPredictedWaitPollsLessAndExitsPromptly(t *testing.T) {
	t.Parallel()
	run := func(sc *circlecitest.Scenario) clitest.Result {
		p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait")
		p.Scenario = sc
		return p.Run()
	}
	with, without := run(history(50)), run(history(0))
	with.Expect(t, 0, "success")
	without.Expect(t, 0, "success")
	if n := len(with.Requests("GET", "/insights/gh/acme/api/workflows")); n != 1 {
		t.Errorf("%d insights requests, want 1", n)
	}
	polls := func(r clitest.Result) int { return len(r.Requests("GET", "/pipeline/*/workflow")) }
	if polls(with) >= polls(without) {
		t.Errorf("with history %d polls, without %d: history should save polls", polls(with), polls(without))
	}
	if lag := with.Elapsed - 10*time.Minute; lag > 45*time.Second {
		t.Errorf("with history the wait took %s for a 10m pipeline", with.Elapsed)
	}
}

func TestNoHistoryFallsBackToBackoff(t *testing.T) {
	t.Parallel()
	for _, status := range []int{403, 404} {
		sc := history(50)
		sc.InsightsStatus = status
		p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait", "--max-poll-interval", "20s")
		p.Scenario = sc
		r := p.Run()
		r.Expect(t, 0, "success")
		reqs := r.Requests("GET", "/pipeline/*/workflow")
		for i := 1; i < len(reqs); i++ {
			if gap := reqs[i].At - reqs[i-1].At; gap > 21*time.Second {
				t.Errorf("insights %d: a gap of %s between polls, more than max-poll-interval", status, gap)
			}
		}
		if r.Elapsed > 10*time.Minute+22*time.Second {
			t.Errorf("insights %d: the wait took %s for a 10m pipeline", status, r.Elapsed)
		}
	}
}

func TestEarlyFailureSeenWithinMaxPollInterval(t *testing.T) {
	t.Parallel()
	// History says 30 minutes; this run fails after 2.
	sc := history(50, circlecitest.WorkflowSpec{Name: "build", Duration: circlecitest.Duration(30 * time.Minute), Spread: 0.05})
	sc.Projects[0].Pipeline.Workflows[0].Steps = []circlecitest.Step{{At: 0, Status: "running"}, {At: circlecitest.Duration(2 * time.Minute), Status: "failed"}}
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait", "--max-poll-interval", "30s")
	p.Scenario = sc
	r := p.Run()
	r.Expect(t, 1, "failed")
	if end := 2*time.Minute + 500*time.Millisecond; r.Elapsed > end+31*time.Second {
		t.Errorf("a failure at %s seen after %s: more than max-poll-interval", end, r.Elapsed)
	}
}

func TestShardsSplitTargetsDisjointlyAndCompletely(t *testing.T) {
	t.Parallel()
	sc := &circlecitest.Scenario{Tokens: []string{clitest.Token}}
	var targets []string
	for i := range 10 {
		slug := fmt.Sprintf("gh/acme/svc%d", i)
		sc.Projects = append(sc.Projects, circlecitest.Project{Slug: slug})
		targets = append(targets, fmt.Sprintf(`{"project-slug":%q}`, slug))
	}
	all := "[" + strings.Join(targets, ",") + "]"
	seen := map[string]int{}
	for i := range 3 {
		p := fanout(t, all, "--shard", fmt.Sprintf("%d/3", i))
		p.Scenario = sc
		r := p.Run()
		r.Expect(t, 0, fmt.Sprintf("Shard %d/3", i))
		for _, q := range r.Requests("POST", "/project/*/pipeline") {
			seen[q.Path]++
		}
	}
	// And from CircleCI's parallelism.
	p := fanout(t, all).With("CIRCLE_NODE_INDEX", "1", "CIRCLE_NODE_TOTAL", "3")
	p.Scenario = sc
	r := p.Run()
	r.Expect(t, 0, "Shard 1/3: 3 of 10 targets")
	if len(seen) != 10 {
		t.Errorf("the shards triggered %d projects, want all 10: %v", len(seen), seen)
	}
	for path, n := range seen {
		if n != 1 {
			t.Errorf("%s triggered %d times", path, n)
		}
	}
	for _, bad := range []string{"3/3", "-1/3", "1", "a/b", "0/0"} {
		r := fanout(t, all, "--shard", bad).Run()
		r.Expect(t, 2, "shard")
	}
}

// A rate limit the API announces is kept before any 429: 30 targets
// polled together need more than 40 requests per 10 s. (The first burst,
// one request per target up to concurrency, goes out before any answer
// announced a limit: a limit below it could still see a 429, once.)
func TestAnnouncedRateLimitIsKeptWithoutA429(t *testing.T) {
	t.Parallel()
	sc := &circlecitest.Scenario{Tokens: []string{clitest.Token}, RateLimit: &circlecitest.RateLimit{Limit: 40, Window: circlecitest.Duration(10 * time.Second)}}
	var targets []string
	for i := range 30 {
		slug := fmt.Sprintf("gh/acme/svc%d", i)
		sc.Projects = append(sc.Projects, circlecitest.Project{Slug: slug,
			Pipeline: circlecitest.Timeline{Workflows: []circlecitest.WorkflowSpec{{Name: "build", Duration: circlecitest.Duration(20 * time.Second)}}}})
		targets = append(targets, fmt.Sprintf(`{"project-slug":%q}`, slug))
	}
	p := fanout(t, "["+strings.Join(targets, ",")+"]", "--wait")
	p.Scenario = sc
	r := p.Run()
	r.Expect(t, 0)
	if n := len(r.Requests("POST", "/project/*/pipeline")); n != 30 {
		t.Errorf("%d triggers, want 30", n)
	}
	for _, q := range r.Sim.Requests() {
		if q.Status == 429 {
			t.Fatalf("%s %s answered 429 at %s: the announced limit was not kept", q.Method, q.Path, q.At)
		}
	}
}

// A shard with no target (more shards than targets) succeeds, and still
// prints one JSON object and a job summary.
func TestEmptyShard(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--targets", `[{"project-slug":"gh/acme/web"},{"project-slug":"gh/acme/mobile"}]`, "--shard", "2/3", "--json").Run()
	var out map[string]any
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &out) != nil || out["status"] != "no-targets" || r.Sim.Count("", "*") != 0 {
		t.Errorf("exit %d, stdout %q, %d requests", r.Code, r.Stdout, r.Sim.Count("", "*"))
	}
	g := clitest.GitHub(t, map[string]string{"targets": `[{"project-slug":"gh/acme/web"}]`, "shard": "1/2", "wait": "true"}).Run()
	if g.Code != 0 || g.Outputs["status"] != "no-targets" || !strings.Contains(g.Summary, "0 pipelines for 0 targets") {
		t.Errorf("action: exit %d, outputs %v, summary %q", g.Code, g.Outputs, g.Summary)
	}
}
