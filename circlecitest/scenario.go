package circlecitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// Scenario is the simulator's world: who may call it, which projects exist,
// what their pipelines do over time, and which faults to inject. It is data,
// read from JSON, so users can rehearse their own fan-out offline; tests
// build it as a Go value. Durations count on the simulator's clock unless
// a field says otherwise.
type Scenario struct {
	// Tokens the API accepts (Circle-Token, basic auth, or Bearer). Empty
	// (and no Users): DefaultToken only.
	Tokens []string `json:"tokens,omitempty"`
	// Users maps a token to the login of its user, for pipeline/mine, /me
	// and trigger.actor.login. Their tokens are accepted too. A token not
	// listed is DefaultUser.
	Users map[string]string `json:"users,omitempty"`
	// PageSize of every list; 0: 20.
	PageSize int `json:"page_size,omitempty"`
	// Latency is added to every API answer, like a distant server.
	Latency Duration `json:"latency,omitempty"`
	// Jitter delays each request's arrival, and then its answer, by up to
	// this long more, drawn at random: requests and answers overtake each
	// other.
	Jitter Duration `json:"jitter,omitempty"`
	// ClockSkew offsets the server's clock as its answers show it: every
	// timestamp (created_at, stopped_at, …) and the Date header every answer
	// carries. Positive: the server is ahead of the client; negative: behind.
	ClockSkew Duration `json:"clock_skew,omitempty"`
	// ListLag is the default of Project.ListLag.
	ListLag Duration `json:"list_lag,omitempty"`
	// RateLimit, when set, announces a rate limit on every API answer and
	// answers 429 once it is used up. RateLimits are more, each enforced
	// on its own, as CircleCI may send both header families.
	RateLimit  *RateLimit  `json:"rate_limit,omitempty"`
	RateLimits []RateLimit `json:"rate_limits,omitempty"`
	// Seed drives every random draw (workflow durations with a Spread, the
	// history of Insights, pipeline, workflow and job ids): the same seed,
	// the same rehearsal.
	Seed int64 `json:"seed,omitempty"`
	// InsightsStatus, when set, refuses every insights request with this
	// status (403 or 404), as a plan without insights or CircleCI server does.
	InsightsStatus int       `json:"insights_status,omitempty"`
	Projects       []Project `json:"projects"`
	Faults         []Fault   `json:"faults,omitempty"`
}

// DefaultToken is accepted when a scenario names no token. It is obviously
// not a real CircleCI token.
const DefaultToken = "sim-token-not-a-secret"

// DefaultUser is the login of every token that Scenario.Users does not name.
const DefaultUser = "sim-user"

// RateLimit is a fixed-window limit on all API requests together, whatever
// their token, counted as each request arrives. Every answer announces it
// in the headers Headers names; a request over the limit gets 429 "Rate
// limit exceeded." with Retry-After set to the seconds until the window
// ends.
type RateLimit struct {
	Limit  int      `json:"limit"`            // requests per window
	Window Duration `json:"window,omitempty"` // default 1m
	// Offset moves the windows: they start Offset after the simulator,
	// then every Window, so that they are not aligned with a client's
	// start.
	Offset Duration `json:"offset,omitempty"`
	// Headers is the family of headers that announces the limit:
	//   - "both" (the default): RateLimit-Limit/-Remaining/-Reset and
	//     X-RateLimit-Limit/-Remaining/-Reset;
	//   - "ratelimit": RateLimit-* alone;
	//   - "x-ratelimit": X-RateLimit-* alone, as CircleCI was recorded
	//     sending it;
	//   - "x-ratelimit-unit": X-RateLimit-Limit-<Second|Minute|Hour|Day>
	//     (the unit is Window, which must be one), X-RateLimit-Remaining and
	//     X-RateLimit-Reset, as CircleCI documents it;
	//   - "none": no header; only the 429s tell.
	// Give each of several limits its own family.
	Headers string `json:"headers,omitempty"`
	// Floor rounds Reset down to whole seconds (0 in a window's last
	// second); by default it is rounded up.
	Floor bool `json:"floor,omitempty"`
	// Changes change the limit from a window on.
	Changes []LimitChange `json:"changes,omitempty"`
}

// LimitChange is a new limit from the first window that starts at or
// after At on.
type LimitChange struct {
	At    Duration `json:"at"`
	Limit int      `json:"limit"`
}

// Project is one project and what each of its pipelines does.
type Project struct {
	Slug          string   `json:"slug"`
	DefaultBranch string   `json:"default_branch,omitempty"` // "main"
	Branches      []string `json:"branches,omitempty"`       // default: [default_branch]; "*" allows any
	Tags          []string `json:"tags,omitempty"`
	// Parameters declared in the project's config: name -> "string",
	// "boolean", "integer" or "enum".
	Parameters map[string]string `json:"parameters,omitempty"`
	// Undeclared says how a parameter that is not declared, or has the
	// wrong type, is answered: "errored" (201, then the pipeline errors, the
	// default) or "reject" (400). CircleCI's docs allow both readings.
	Undeclared string `json:"undeclared,omitempty"`
	// Definitions are the pipeline definition ids pipeline/run accepts.
	Definitions []string `json:"definitions,omitempty"`
	// NotCreated, when set, makes pipeline/run answer 200 with this message
	// and create nothing (e.g. "Ignoring pipeline due to CI skip in the commit").
	NotCreated string   `json:"not_created,omitempty"`
	Pipeline   Timeline `json:"pipeline"`
	// Latency delays every request about the project (its pipelines,
	// workflows, jobs and insights) on its way in, before anything else
	// happens to it: a project farther away. Requests about projects at
	// different distances never arrive at the same instant.
	Latency Duration `json:"latency,omitempty"`
	// Insights, when set, gives the project a history of past runs that
	// the insights endpoints serve.
	Insights *Insights `json:"insights,omitempty"`
	// ListLag delays a new pipeline's appearance in pipeline/mine and the
	// project's pipeline list (GET /pipeline/{id} knows it at once), like an
	// eventually consistent index. Default: Scenario.ListLag.
	ListLag Duration `json:"list_lag,omitempty"`
	// Seed are pipelines that ran before the simulator started: created an
	// hour before it, one a second, oldest first (After is ignored). A
	// rerun of one of their workflows can be asked for at once.
	Seed []Extra `json:"seed,omitempty"`
	// Noise are pipelines created with every pipeline a trigger creates,
	// at the same instant: someone else's, or the same user's with other
	// parameters, for testing how a client finds the pipeline it created.
	Noise []Extra `json:"noise,omitempty"`

	branches, tags *regexp.Regexp // compiled Branches and Tags
}

// Extra is a pipeline nobody asked this simulator's client for. Its fields
// default to those of the pipeline it comes with (Noise) or to the
// project's default branch, no parameters and DefaultUser (Seed).
type Extra struct {
	Actor      string         `json:"actor,omitempty"`  // trigger.actor.login
	Branch     string         `json:"branch,omitempty"` // at most one of Branch and Tag
	Tag        string         `json:"tag,omitempty"`
	Parameters map[string]any `json:"parameters"` // nil: the same; {}: none
	// Slug is the project_slug the pipeline reports, a lie when it names
	// another project: the list is this project's, the pipeline says not.
	Slug string `json:"slug,omitempty"`
	// After creates it just after the triggered pipeline (listed before it,
	// newest first) rather than just before.
	After bool `json:"after,omitempty"`
}

// Timeline is what a pipeline does after it is created.
type Timeline struct {
	// CreatedAfter is how long the pipeline stays pending (or setup-pending);
	// default 300ms.
	CreatedAfter Duration `json:"created_after,omitempty"`
	// Errors, when set, are the pipeline's errors[]: it ends errored with
	// them and no workflow, or in ErrorsState. Messages are served
	// verbatim, whatever they hold.
	Errors []PipelineError `json:"errors,omitempty"`
	// ErrorsState is the state a pipeline with Errors ends in: "errored"
	// (the default, with no workflow) or "created", as a pipeline that
	// could not run for its plan ({"type": "plan"}: no credits left) ends,
	// with the Workflows it has (none, usually).
	ErrorsState string `json:"errors_state,omitempty"`
	// Workflows in the order they are created. Those tagged "setup" run
	// first, while the pipeline is in state setup; the others are
	// continuation workflows whose Appear counts from the setup's end.
	Workflows []WorkflowSpec `json:"workflows,omitempty"`
}

// PipelineError is one entry of a pipeline's errors[].
type PipelineError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// WorkflowSpec is one workflow's life. Names (of workflows and jobs) are
// served verbatim: newlines, "::" commands and very long ones included.
type WorkflowSpec struct {
	Name string `json:"name"`
	Tag  string `json:"tag,omitempty"` // "setup" for dynamic config
	// HideTag lists a setup workflow without its tag, as older CircleCI
	// servers do; the pipeline still goes setup-pending, setup, pending,
	// created.
	HideTag bool `json:"hide_tag,omitempty"`
	// Appear is when the workflow is listed, counted from the pipeline's
	// creation (or from the setup workflow's end, for continuation
	// workflows); default 200ms.
	Appear Duration `json:"appear,omitempty"`
	// Steps are the statuses it goes through, each at an offset from its
	// appearance. Shorthand: Duration and Status give running, then Status.
	Steps    []Step    `json:"steps,omitempty"`
	Duration Duration  `json:"duration,omitempty"`
	Status   string    `json:"status,omitempty"`
	Jobs     []JobSpec `json:"jobs,omitempty"`
	// Reruns is what each successive rerun of this workflow does (POST
	// /workflow/{id}/rerun): the first rerun follows Reruns[0], the second
	// Reruns[1], and so on, the last one repeating. Without it a rerun does
	// what the workflow did. A rerun is a new workflow of the same name in
	// the same pipeline, listed Appear (default: at once) after the rerun
	// was asked for. Its jobs are those the rerun chose (from_failed: those
	// that did not succeed; jobs: those; neither: all), each as the rerun's
	// spec lists it by name, or else as before, succeeding when the rerun's
	// workflow succeeds. A flaky workflow: "status": "failed", "reruns":
	// [{"status": "success"}]. Name, Tag and Reruns of an entry are ignored.
	Reruns []WorkflowSpec `json:"reruns,omitempty"`
	// MaxAutoReruns is the workflow's max_auto_reruns (1 to 5): CircleCI
	// reruns a run that ends failed from failed by itself, AutoRerunDelay
	// after its end, up to this many times; the Nth automatic rerun has
	// auto_rerun_number N and does what the next entry of Reruns says.
	// Manual reruns get no automatic ones. Every run carries
	// max_auto_reruns.
	MaxAutoReruns int `json:"max_auto_reruns,omitempty"`
	// AutoRerunDelay is how long after a failure its automatic rerun is
	// listed; default 2s.
	AutoRerunDelay Duration `json:"auto_rerun_delay,omitempty"`
	// DeclineAutoReruns makes CircleCI rerun nothing after all, though
	// max_auto_reruns says it may: it does not promise a rerun every time.
	DeclineAutoReruns bool `json:"decline_auto_reruns,omitempty"`
	// Spread scales each run's timeline by e^N(0, Spread), drawn from the
	// scenario's Seed: a run lasts about Duration, give or take Spread
	// (0.05: 5%). Insights' history is drawn the same way.
	Spread float64 `json:"spread,omitempty"`
}

// Step is one status change of a workflow.
type Step struct {
	At     Duration `json:"at"`
	Status string   `json:"status"`
}

// JobSpec is one job as listed once its workflow has finished or stopped.
// Jobs get job numbers, one sequence per project, in the order their
// workflows are created.
type JobSpec struct {
	Name   string `json:"name"`
	Type   string `json:"type,omitempty"` // build (default) or approval
	Status string `json:"status"`
	// Duration, set on the jobs of a workflow, times the workflow by its
	// jobs: each starts when the jobs it Requires have ended (at once
	// without any), runs about Duration (give or take the workflow's
	// Spread, a draw of its own) and then has its Status (default
	// success); the workflow ends with its last job. Before it starts a job
	// is blocked, then running, with its own started_at and stopped_at.
	// Insights know each job's history too.
	Duration Duration `json:"duration,omitempty"`
	Requires []string `json:"requires,omitempty"` // names of jobs listed before it
	// Unnumbered lists an approval job without a job_number, as the API
	// did until 2023 or so; today's answers number approval jobs too.
	Unnumbered bool `json:"unnumbered,omitempty"`
	// Tests are the job's test results (GET /project/{slug}/{job-number}/tests),
	// served once its workflow has stopped; none: the job stored no test
	// metadata, and the list is empty.
	Tests []TestSpec `json:"tests,omitempty"`
	// Artifacts are the job's artifacts (GET …/{job-number}/artifacts);
	// their url is made up from the path.
	Artifacts []ArtifactSpec `json:"artifacts,omitempty"`
}

// TestSpec is one test result, served verbatim with the defaults below.
type TestSpec struct {
	Name      string  `json:"name"`
	Classname string  `json:"classname,omitempty"`
	File      string  `json:"file,omitempty"`
	Result    string  `json:"result,omitempty"`  // default success; failure, error, skipped
	Message   string  `json:"message,omitempty"` // the failure message, any number of lines
	RunTime   float64 `json:"run_time,omitempty"`
	Source    string  `json:"source,omitempty"` // default "junit"
}

// ArtifactSpec is one artifact of a job.
type ArtifactSpec struct {
	Path      string `json:"path"`
	NodeIndex int64  `json:"node_index,omitempty"`
}

// Fault makes matching requests fail. Give it at least one of Status, Drop,
// Delay, Hang, Truncate, Size, Length and Endless. Without Status (or Drop)
// the request is handled normally and its real answer is delayed or mangled.
type Fault struct {
	Method string `json:"method,omitempty"` // empty: any
	// Path matches the path below /api/v2; '*' matches anything, '/' included.
	Path string `json:"path"`
	// Skip lets the first Skip matching requests through; Count then fails
	// that many (0: all following ones).
	Skip  int `json:"skip,omitempty"`
	Count int `json:"count,omitempty"`
	// From and Until limit the fault to a window of the simulator's time,
	// counted from its start.
	From  Duration `json:"from,omitempty"`
	Until Duration `json:"until,omitempty"`

	Status      int               `json:"status,omitempty"` // answer with this status …
	Body        string            `json:"body,omitempty"`   // … and this body, verbatim (default: CircleCI's message for it)
	ContentType string            `json:"content_type,omitempty"`
	RetryAfter  string            `json:"retry_after,omitempty"` // Retry-After header, verbatim
	Headers     map[string]string `json:"headers,omitempty"`     // more headers, e.g. Location
	// EchoToken puts the request's token in the answer, as a careless
	// server does: the default body becomes {"message": "Invalid token
	// <token> provided."} (401) or CircleCI's message followed by "Token:
	// <token>", and "{token}" in Body, RetryAfter and Headers is replaced by
	// it. Needs Status.
	EchoToken bool     `json:"echo_token,omitempty"`
	Delay     Duration `json:"delay,omitempty"` // wait this long first (slow answers), on the simulator's clock
	// Hang holds the request open this long on the real clock, or until
	// the client gives up (or the server closes): "24h" hangs for good.
	Hang Duration `json:"hang,omitempty"`
	Drop bool     `json:"drop,omitempty"` // close the connection without an answer
	// AfterEffect handles the request normally (a pipeline is created, a
	// workflow canceled) and then fails, or with Delay or Hang answers late:
	// the ambiguous failure a client must not answer by sending again
	// blindly. Works on every endpoint, pipeline/run included.
	AfterEffect bool `json:"after_effect,omitempty"`
	// Truncate cuts the body (the fault's, or without Status the real one,
	// status kept) to its first Truncate bytes.
	Truncate int `json:"truncate,omitempty"`
	// Size pads the body with spaces after its end to this many bytes: still
	// valid JSON, too large for a client that limits what it reads.
	Size int `json:"size,omitempty"`
	// Length announces this Content-Length whatever the body's length: a
	// larger one makes the client read an early end of the body.
	Length int `json:"length,omitempty"`
	// Endless makes list answers always carry a fresh next_page_token, never
	// the same twice; the pages it leads to hold no items ("empty") or the
	// first page again ("repeat").
	Endless string `json:"endless,omitempty"`

	re *regexp.Regexp
}

// Duration is a time.Duration written as "1.5s" in JSON (or a number of seconds).
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s any
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	switch v := s.(type) {
	case float64:
		*d = Duration(v * float64(time.Second))
	case string:
		x, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*d = Duration(x)
	default:
		return fmt.Errorf("duration must be a string like \"1.5s\" or a number of seconds, got %s", b)
	}
	return nil
}

// Load reads a scenario file.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// MustParse is Parse for scenarios written in a program or a test; it
// panics on a bad one.
func MustParse(s string) *Scenario {
	sc, err := Parse([]byte(s))
	if err != nil {
		panic("sim: scenario: " + err.Error())
	}
	return sc
}

// Parse reads a scenario from JSON, refusing unknown fields (a typo would
// otherwise silently change the rehearsal), and fills in defaults.
func Parse(b []byte) (*Scenario, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	return &s, s.normalize()
}

// Check reports what is wrong with a scenario built as a Go value; New
// panics on such a scenario.
func (s *Scenario) Check() error {
	_, err := s.normalized()
	return err
}

// normalized returns a normalized deep copy of s, so that a scenario value
// can be shared by tests that run at once.
func (s *Scenario) normalized() (*Scenario, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

func (s *Scenario) normalize() error {
	if len(s.Tokens) == 0 && len(s.Users) == 0 {
		s.Tokens = []string{DefaultToken}
	}
	for _, t := range slices.Sorted(maps.Keys(s.Users)) {
		if !slices.Contains(s.Tokens, t) {
			s.Tokens = append(s.Tokens, t)
		}
	}
	if s.PageSize <= 0 {
		s.PageSize = 20
	}
	var errs []error
	if s.RateLimit != nil {
		s.RateLimits = append([]RateLimit{*s.RateLimit}, s.RateLimits...)
		s.RateLimit = nil
	}
	for i := range s.RateLimits {
		errs = append(errs, s.RateLimits[i].normalize(fmt.Sprintf("rate_limits[%d]", i))...)
	}
	for i := range s.Projects {
		errs = append(errs, s.Projects[i].normalize(fmt.Sprintf("projects[%d]", i), s.ListLag)...)
	}
	for i := range s.Faults {
		errs = append(errs, s.Faults[i].normalize(i))
	}
	return errors.Join(errs...)
}

func (f *Fault) normalize(i int) error {
	f.re = glob(f.Path)
	switch {
	case f.Status == 0 && !f.Drop && f.Delay == 0 && f.Hang == 0 && f.Truncate == 0 && f.Size == 0 && f.Length == 0 && f.Endless == "":
		return fmt.Errorf("faults[%d]: give a status, drop, delay, hang, truncate, size, length or endless", i)
	case f.EchoToken && f.Status == 0:
		return fmt.Errorf("faults[%d]: echo_token needs a status", i)
	case f.Endless != "" && f.Endless != "empty" && f.Endless != "repeat":
		return fmt.Errorf("faults[%d]: endless must be empty or repeat", i)
	}
	return nil
}

func (p *Project) normalize(at string, listLag Duration) []error {
	var errs []error
	if strings.Count(p.Slug, "/") != 2 {
		errs = append(errs, fmt.Errorf("%s: slug %q is not vcs/org/repo", at, p.Slug))
	}
	if p.DefaultBranch == "" {
		p.DefaultBranch = "main"
	}
	if len(p.Branches) == 0 {
		p.Branches = []string{p.DefaultBranch}
	}
	p.branches, p.tags = globs(p.Branches), globs(p.Tags)
	if p.ListLag == 0 {
		p.ListLag = listLag
	}
	switch p.Undeclared {
	case "":
		p.Undeclared = "errored"
	case "errored", "reject":
	default:
		errs = append(errs, fmt.Errorf("%s: undeclared must be errored or reject", at))
	}
	for name, xs := range map[string][]Extra{"seed": p.Seed, "noise": p.Noise} {
		for j, x := range xs {
			if x.Branch != "" && x.Tag != "" {
				errs = append(errs, fmt.Errorf("%s.%s[%d]: both a branch and a tag", at, name, j))
			}
			if x.Slug != "" && strings.Count(x.Slug, "/") != 2 {
				errs = append(errs, fmt.Errorf("%s.%s[%d]: slug %q is not vcs/org/repo", at, name, j, x.Slug))
			}
		}
	}
	if p.Pipeline.CreatedAfter == 0 {
		p.Pipeline.CreatedAfter = Duration(300 * time.Millisecond)
	}
	switch p.Pipeline.ErrorsState {
	case "":
		p.Pipeline.ErrorsState = "errored"
	case "errored", "created":
	default:
		errs = append(errs, fmt.Errorf("%s: errors_state must be errored or created", at))
	}
	for j := range p.Pipeline.Workflows {
		errs = append(errs, p.Pipeline.Workflows[j].normalize(fmt.Sprintf("%s.workflows[%d]", at, j))...)
	}
	return errs
}

func (w *WorkflowSpec) normalize(at string) []error {
	var errs []error
	if w.Name == "" {
		errs = append(errs, fmt.Errorf("%s: no name", at))
	}
	if w.Appear == 0 {
		w.Appear = Duration(200 * time.Millisecond)
	}
	if w.MaxAutoReruns < 0 || w.MaxAutoReruns > 5 {
		errs = append(errs, fmt.Errorf("%s: max_auto_reruns must be between 1 and 5", at))
	}
	if w.AutoRerunDelay == 0 {
		w.AutoRerunDelay = Duration(2 * time.Second)
	}
	errs = append(errs, w.normalizeJobs(at)...)
	errs = append(errs, w.normalizeSteps(at)...)
	for k := range w.Reruns {
		r := &w.Reruns[k]
		r.Name, r.Tag, r.Reruns = w.Name, w.Tag, nil
		errs = append(errs, r.normalizeSteps(fmt.Sprintf("%s.reruns[%d]", at, k))...)
	}
	return errs
}

// normalizeJobs checks the jobs of a workflow timed by its jobs, and
// gives the workflow the steps of its jobs' median run.
func (w *WorkflowSpec) normalizeJobs(at string) []error {
	if !w.timedByJobs() {
		return nil
	}
	var errs []error
	ends := map[string]time.Duration{}
	var end time.Duration
	for i, j := range w.Jobs {
		if j.Duration <= 0 || j.Type == "approval" {
			errs = append(errs, fmt.Errorf("%s.jobs[%d]: every job of a workflow timed by its jobs needs a duration, and none can be an approval", at, i))
		}
		start := time.Duration(0)
		for _, r := range j.Requires {
			e, ok := ends[r]
			if !ok {
				errs = append(errs, fmt.Errorf("%s.jobs[%d]: requires %q, not a job listed before it", at, i, r))
			}
			start = max(start, e)
		}
		if j.Status == "" {
			w.Jobs[i].Status = "success"
		}
		ends[j.Name] = start + j.Duration.D()
		end = max(end, ends[j.Name])
	}
	// Normalized once already, the workflow has the steps of its jobs.
	ownSteps := len(w.Steps) > 0 && (len(w.Steps) != 2 || w.Steps[1].At.D() != end)
	if ownSteps || (w.Duration > 0 && w.Duration.D() != end) {
		errs = append(errs, fmt.Errorf("%s: a workflow timed by its jobs has no duration or steps of its own", at))
	}
	w.Duration = Duration(end)
	return errs
}

// timedByJobs tells a workflow whose jobs have durations.
func (w *WorkflowSpec) timedByJobs() bool {
	return slices.ContainsFunc(w.Jobs, func(j JobSpec) bool { return j.Duration > 0 })
}

func (w *WorkflowSpec) normalizeSteps(at string) []error {
	var errs []error
	if len(w.Steps) == 0 {
		if w.Status == "" {
			w.Status = "success"
		}
		w.Steps = []Step{{At: 0, Status: "running"}, {At: w.Duration, Status: w.Status}}
	}
	for _, st := range w.Steps {
		if !circleci.KnownStatus(st.Status) && !strings.HasPrefix(st.Status, "x-") {
			errs = append(errs, fmt.Errorf("%s: unknown status %q (statuses made up on purpose start with x-)", at, st.Status))
		}
	}
	return errs
}

// glob compiles a pattern whose '*' matches anything, '/' included.
func glob(g string) *regexp.Regexp {
	return globs([]string{g})
}

// globs compiles patterns into one regexp matching any of them; nil for none.
func globs(gs []string) *regexp.Regexp {
	if len(gs) == 0 {
		return nil
	}
	alts := make([]string, len(gs))
	for i, g := range gs {
		alts[i] = strings.ReplaceAll(regexp.QuoteMeta(g), `\*`, ".*")
	}
	return regexp.MustCompile("^(?:" + strings.Join(alts, "|") + ")$")
}

// matches reports whether v matches compiled patterns (none match nothing).
func matches(re *regexp.Regexp, v string) bool { return re != nil && re.MatchString(v) }

func (rl *RateLimit) normalize(at string) []error {
	var errs []error
	if rl.Window <= 0 {
		rl.Window = Duration(time.Minute)
	}
	if rl.Headers == "" {
		rl.Headers = "both"
	}
	if rl.Limit <= 0 {
		errs = append(errs, fmt.Errorf("%s: limit must be positive", at))
	}
	for _, c := range rl.Changes {
		if c.Limit <= 0 {
			errs = append(errs, fmt.Errorf("%s: a change's limit must be positive", at))
		}
	}
	switch rl.Headers {
	case "both", "ratelimit", "x-ratelimit", "none":
	case "x-ratelimit-unit":
		if unitOf(rl.Window.D()) == "" {
			errs = append(errs, fmt.Errorf("%s: x-ratelimit-unit needs a window of 1s, 1m, 1h or 24h", at))
		}
	default:
		errs = append(errs, fmt.Errorf("%s: headers %q: want both, ratelimit, x-ratelimit, x-ratelimit-unit or none", at, rl.Headers))
	}
	return errs
}

// unitOf names a window in X-RateLimit-Limit-<unit>.
func unitOf(d time.Duration) string {
	return map[time.Duration]string{time.Second: "Second", time.Minute: "Minute", time.Hour: "Hour", 24 * time.Hour: "Day"}[d]
}
