// Package circlecitest simulates the parts of CircleCI's API v2 that
// circleci-trigger uses, for tests, demos and rehearsals, in the spirit of
// net/http/httptest: NewServer starts one on a loopback port from a
// Scenario, Server.Client gives a client for it, and the simulator records
// every request for a test to inspect.
//
// A Scenario is data (JSON, or a Go value): the projects, what each
// pipeline does over time, and the faults to inject. The simulator has both
// trigger endpoints with CircleCI's validation and messages, pipelines that
// move through their states on the simulator's clock, workflows that
// appear asynchronously, run, fail, hold, get canceled and rerun, dynamic
// config, paginated lists with opaque tokens, and faults on demand:
// failing, late, hanging or mangled answers, lagging and lying lists,
// other users' pipelines, a skewed clock, a rate limit and hostile strings.
// Its answers follow recorded fixtures and the OpenAPI spec; where
// CircleCI's behaviour is not documented the choice is marked "synthetic".
package circlecitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// Request is one request the simulator received, as tests inspect it.
type Request struct {
	Method      string          `json:"method"`
	Path        string          `json:"path"` // escaped, below /api/v2
	Query       string          `json:"query,omitempty"`
	Body        json.RawMessage `json:"body,omitempty"`
	ContentType string          `json:"content_type,omitempty"`
	Accept      string          `json:"accept,omitempty"`
	UserAgent   string          `json:"user_agent,omitempty"`
	Auth        string          `json:"auth"` // circle-token, basic, bearer or none
	Status      int             `json:"status"`
	Fault       bool            `json:"fault,omitempty"`
	At          time.Duration   `json:"at"`               // arrival, since the simulator started
	Served      time.Duration   `json:"served,omitempty"` // the moment the answer describes (a handled request)

	rawURL string
	token  string
	marks  *marks
}

// marks are what is learned of a request after its record was made.
type marks struct {
	lost    atomic.Bool // the client gave up before the answer reached it
	mangled atomic.Bool // the answer, or that of a later page of the same read, was not the truth
	open    atomic.Bool // a page whose read has not fetched its last page
}

type marksKey struct{}

// Lost tells that the client gave up on the request before its answer
// reached it (its context ended): the client never saw the answer. Only
// Transport can tell; over a network it is false.
func (r Request) Lost() bool { return r.marks != nil && r.marks.lost.Load() }

// Mangled tells that the client could not read the truth from the answer:
// a fault cut its body, padded it or lied about its length, or a later
// page of the same list was a fault's repeat of the first or an empty page
// in place of one with items (an Endless fault). An answer that is merely
// late, or the first page of a list whose next pages were empty anyway,
// is not mangled.
func (r Request) Mangled() bool { return r.marks != nil && r.marks.mangled.Load() }

// Partial tells that the answer is a page of a list whose read has not
// fetched the list's last page: the client never saw the whole list.
func (r Request) Partial() bool { return r.marks != nil && r.marks.open.Load() }

// RawURL is the request's URL as sent, for tests that look for leaks.
func (r Request) RawURL() string { return r.rawURL }

// Token is what the request presented as a token; only tests read it.
func (r Request) Token() string { return r.token }

// Simulator simulates the API. Create it with NewSimulator; it is an http.Handler that
// serves the API below /api/v2.
type Simulator struct {
	sc     *Scenario
	clk    circleci.Clock
	start  time.Time
	mux    *http.ServeMux
	closed chan struct{} // closed by Close: hanging requests end
	once   sync.Once

	mu        sync.Mutex
	pipelines []*pipeline // in creation order
	byID      map[string]*pipeline
	wfByID    map[string]*workflow
	numbers   map[string]int64
	jobNums   map[string]int64  // per project: the last job number given
	jobByNum  map[string]jobRef // "slug/number" -> the job
	requests  []Request
	arrivals  []Request // as they arrive, before any answer
	observe   func(Request)
	hits      []int        // per fault: matching requests seen
	used      []int        // per rate limit: requests in its current window
	windows   []int64      // which window that is, counted from its offset
	rng       *mrand.Rand  // draws of workflow durations; made from Seed on first use
	jitterRNG *mrand.Rand  // draws of Jitter
	pages     atomic.Int64 // fresh page tokens handed out (Endless)
	chains    sync.Map     // a page token -> the answer that gave it (*chain)
}

type pipeline struct {
	id, slug     string
	shown        string // project_slug as answered: slug, or a lie
	number       int64
	project      *Project
	created      time.Time
	branch, tag  string
	params       map[string]any
	errors       []PipelineError
	errored      bool // it ends errored, with no workflow
	workflows    []*workflow
	definitionID string
	actor        string // login of the user who triggered it
	extra        bool   // not created by a trigger (Seed, Noise, CreateAs)
}

type workflow struct {
	spec       *WorkflowSpec
	id         string
	p          *pipeline
	canceledAt time.Time
	jobs       []JobSpec // the jobs it runs: the spec's, or a rerun's choice
	jobIDs     []string
	jobNumbers []int64         // 0 for unnumbered approval jobs
	rerunAt    time.Time       // set for a rerun: when it was asked for (or, automatic, when it came)
	first      *workflow       // the workflow a rerun reruns, first of its line; nil for that one
	reruns     int             // on the first of a line: how many reruns it had
	scale      float64         // this run's duration factor (Spread)
	jobStart   []time.Duration // timed by its jobs: when each job starts, since the workflow appeared
	jobEnd     []time.Duration // and when it ends
	jobSkipped []bool          // and whether it does not run: a job it requires failed
	steps      []Step          // this run's own timeline, when its jobs time it
	autoNumber int             // auto_rerun_number: the Nth automatic rerun; 0 for others
	manual     bool            // a rerun someone asked for: it gets no automatic rerun
	autoDone   bool            // its automatic rerun came, or was declined
	autoNext   *workflow       // its automatic rerun
}

// NewSimulator makes a simulator over a normalized copy of sc (later changes to sc
// do not reach it); clk nil means the real clock. It panics on a scenario
// that Check refuses.
func NewSimulator(sc *Scenario, clk circleci.Clock) *Simulator {
	sc, err := sc.normalized()
	if err != nil {
		panic("sim: scenario: " + err.Error())
	}
	if clk == nil {
		clk = circleci.SystemClock
	}
	s := &Simulator{sc: sc, clk: clk, start: clk.Now(), closed: make(chan struct{}), byID: map[string]*pipeline{},
		wfByID: map[string]*workflow{}, numbers: map[string]int64{}, jobNums: map[string]int64{}, jobByNum: map[string]jobRef{}, hits: make([]int, len(sc.Faults))}
	for i := range sc.Projects {
		p := &sc.Projects[i]
		for j, x := range p.Seed {
			s.addExtra(p, x, triggerInput{actor: DefaultUser, at: s.start.Add(-time.Hour + time.Duration(j)*time.Second)})
		}
	}
	m := http.NewServeMux()
	m.HandleFunc("POST /api/v2/project/{vcs}/{org}/{repo}/pipeline", s.triggerPipeline)
	m.HandleFunc("POST /api/v2/project/{slug}/pipeline", s.triggerPipeline) // slug sent as one %2F-escaped segment
	m.HandleFunc("POST /api/v2/project/{vcs}/{org}/{repo}/pipeline/run", s.runPipeline)
	m.HandleFunc("GET /api/v2/project/{vcs}/{org}/{repo}/pipeline/mine", s.listPipelines(true))
	m.HandleFunc("GET /api/v2/project/{vcs}/{org}/{repo}/pipeline", s.listPipelines(false))
	m.HandleFunc("GET /api/v2/pipeline/{id}", s.onPipeline(s.getPipeline))
	m.HandleFunc("GET /api/v2/pipeline/{id}/workflow", s.onPipeline(s.listWorkflows))
	m.HandleFunc("GET /api/v2/pipeline/{id}/config", s.onPipeline(s.getConfig))
	m.HandleFunc("GET /api/v2/workflow/{id}", s.onWorkflow(s.getWorkflow))
	m.HandleFunc("GET /api/v2/workflow/{id}/job", s.onWorkflow(s.listJobs))
	m.HandleFunc("POST /api/v2/workflow/{id}/cancel", s.onWorkflow(s.cancelWorkflow))
	m.HandleFunc("POST /api/v2/workflow/{id}/rerun", s.onWorkflow(s.rerunWorkflow))
	m.HandleFunc("GET /api/v2/project/{vcs}/{org}/{repo}/{number}/tests", s.onJob(s.listTests))
	m.HandleFunc("GET /api/v2/project/{vcs}/{org}/{repo}/{number}/artifacts", s.onJob(s.listArtifacts))
	m.HandleFunc("GET /api/v2/me", s.me)
	m.HandleFunc("GET /api/v2/insights/{vcs}/{org}/{repo}/workflows", s.workflowMetrics)
	m.HandleFunc("GET /api/v2/insights/{vcs}/{org}/{repo}/workflows/{name}", s.workflowRuns)
	m.HandleFunc("GET /api/v2/insights/{vcs}/{org}/{repo}/workflows/{name}/summary", s.workflowSummary)
	m.HandleFunc("GET /api/v2/insights/{vcs}/{org}/{repo}/workflows/{name}/jobs", s.jobMetrics)
	m.HandleFunc("/api/v2/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, msg("Not found"))
	})
	m.HandleFunc("GET /pipelines/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>circleci-sim</title><p>Simulated page for %s</p>\n", r.URL.Path)
	})
	s.mux = m
	return s
}

// Close ends the requests a Hang fault holds open. The server still answers
// new requests, without hanging.
func (s *Simulator) Close() { s.once.Do(func() { close(s.closed) }) }

// Requests returns a copy of every API request answered (or dropped) so
// far, in the order their answers were decided.
func (s *Simulator) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Matching returns the requests whose method is method (empty: any) and
// whose escaped path below /api/v2 matches pathGlob, where '*' matches
// anything, '/' included: Matching("POST", "/project/*/pipeline").
func (s *Simulator) Matching(method, pathGlob string) []Request {
	re := glob(pathGlob)
	var out []Request
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && re.MatchString(r.Path) {
			out = append(out, r)
		}
	}
	return out
}

// Calm ends every fault and the rate limit: what the simulator answers
// from then on is the plain truth of its timeline.
func (s *Simulator) Calm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sc.Faults, s.sc.RateLimits = nil, nil
}

// Observe calls f with every request as it arrives, before it is
// answered: a test can act at a chosen moment of a run.
func (s *Simulator) Observe(f func(Request)) {
	s.mu.Lock()
	s.observe = f
	s.mu.Unlock()
}

// Arrived counts the requests that reached the simulator, answered or
// not yet (one held by a Delay or Hang fault, say).
func (s *Simulator) Arrived(method, pathGlob string) int {
	re := glob(pathGlob)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.arrivals {
		if (method == "" || r.Method == method) && re.MatchString(r.Path) {
			n++
		}
	}
	return n
}

// Count is len(Matching(method, pathGlob)).
func (s *Simulator) Count(method, pathGlob string) int { return len(s.Matching(method, pathGlob)) }

// Created lists the ids of the pipelines triggers created in a project, in
// the order they were created; those of Seed, Noise and CreateAs are not.
func (s *Simulator) Created(slug string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, p := range s.pipelines {
		if p.slug == slug && !p.extra {
			ids = append(ids, p.id)
		}
	}
	return ids
}

// PipelineCount is len(Created(slug)).
func (s *Simulator) PipelineCount(slug string) int { return len(s.Created(slug)) }

// overLimit answers a request over a rate limit: 429, until the window
// ends.
func (s *Simulator) overLimit(w http.ResponseWriter, r *http.Request, rec Request, over time.Duration) {
	rec.Fault, rec.Status = true, 429
	s.record(rec)
	s.spoil(r.URL.Query().Get("page-token"))
	limited := &Fault{Status: 429, RetryAfter: strconv.Itoa(int(math.Ceil(over.Seconds())))}
	s.send(w, s.faultAnswer(limited, ""), limited)
}

// arrival is the record of a request as it arrives, and the request with
// the marks that later learn of it.
func (s *Simulator) arrival(r *http.Request, body []byte) (Request, *http.Request) {
	rec := Request{
		Method: r.Method, Path: strings.TrimPrefix(r.URL.EscapedPath(), "/api/v2"), Query: r.URL.RawQuery,
		ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept"), UserAgent: r.Header.Get("User-Agent"),
		At: s.clk.Now().Sub(s.start), rawURL: r.URL.String(),
	}
	if json.Valid(body) {
		rec.Body = body
	} else if len(body) > 0 {
		rec.Body, _ = json.Marshal(string(body))
	}
	rec.Auth, rec.token = credentials(r)
	rec.marks, _ = r.Context().Value(marksKey{}).(*marks)
	if rec.marks == nil {
		rec.marks = &marks{}
		r = r.WithContext(context.WithValue(r.Context(), marksKey{}, rec.marks))
	}
	return rec, r
}

// ServeHTTP records the request, applies the rate limit and faults, then
// answers. Every answer carries a Date header on the simulator's (skewed)
// clock.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/v2/") {
		w.Header().Set("Date", s.date())
		s.mux.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if s.sleep(r.Context(), s.distance(r.URL.EscapedPath())+s.jitter()) != nil {
		return
	}
	rec, r := s.arrival(r, body)
	s.mu.Lock()
	s.arrivals = append(s.arrivals, rec)
	observe := s.observe
	s.mu.Unlock()
	if observe != nil {
		observe(rec)
	}
	if over := s.limit(w.Header()); over > 0 {
		s.overLimit(w, r, rec, over)
		return
	}

	f := s.fault(rec.Method, rec.Path)
	r = r.WithContext(context.WithValue(r.Context(), faultKey{}, f))
	if rec.Fault = f != nil; f == nil {
		f = &Fault{} // changes nothing
	}
	ctx, late := r.Context(), s.sc.Latency.D()+s.jitter()
	var out *answer
	if f.AfterEffect { // handled first, then late or failing
		if s.sleep(ctx, late) != nil {
			return
		}
		out, late = s.handle(r, rec), 0
	}
	if s.sleep(ctx, late+f.Delay.D()) != nil || s.hang(ctx, f.Hang.D()) != nil {
		return
	}
	switch {
	case f.Drop:
		s.record(rec)
		s.spoil(r.URL.Query().Get("page-token"))
		drop(w)
		return
	case f.Status != 0:
		out = s.faultAnswer(f, rec.token)
	case out == nil:
		out = s.handle(r, rec)
	}
	rec.Status = out.Code
	if !out.served.IsZero() {
		rec.Served = out.served.Sub(s.start)
	}
	if f.mangles(out.Body.Len()) {
		rec.marks.mangled.Store(true)
	}
	if rec.Status/100 != 2 || rec.Mangled() {
		s.spoil(r.URL.Query().Get("page-token")) // the read these pages make failed
	}
	s.record(rec)
	s.send(w, out, f)
}

// jitter is a random extra delay of up to Scenario.Jitter.
func (s *Simulator) jitter() time.Duration {
	if s.sc.Jitter <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jitterRNG == nil {
		s.jitterRNG = mrand.New(mrand.NewPCG(uint64(s.sc.Seed), 0x6a09e667f3bcc908))
	}
	return time.Duration(s.jitterRNG.Int64N(int64(s.sc.Jitter)))
}

// distance is how long a request about a project takes to arrive: the
// project's Latency.
func (s *Simulator) distance(path string) time.Duration {
	parts := strings.Split(strings.TrimPrefix(path, "/api/v2/"), "/")
	var p *Project
	if len(parts) >= 4 && (parts[0] == "project" || parts[0] == "insights") {
		p = s.project(strings.Join(parts[1:4], "/"))
	} else if len(parts) >= 2 {
		s.mu.Lock()
		if pl := s.byID[parts[1]]; parts[0] == "pipeline" && pl != nil {
			p = pl.project
		} else if wf := s.wfByID[parts[1]]; parts[0] == "workflow" && wf != nil {
			p = wf.p.project
		}
		s.mu.Unlock()
	}
	if p == nil {
		return 0
	}
	return p.Latency.D()
}

// handle answers the request as the API would.
func (s *Simulator) handle(r *http.Request, rec Request) *answer {
	out := newAnswer()
	out.served = s.clk.Now()
	r = r.WithContext(context.WithValue(r.Context(), nowKey{}, out.served))
	if rec.Auth == "none" || !slices.Contains(s.sc.Tokens, rec.token) {
		writeJSON(out, 401, msg("Invalid token provided."))
	} else {
		s.mux.ServeHTTP(out, r)
	}
	return out
}

type nowKey struct{}

// when is the moment a request's answer describes, fixed as it is handled:
// one answer is of one moment, whatever moves the clock meanwhile.
func (s *Simulator) when(r *http.Request) time.Time {
	if t, ok := r.Context().Value(nowKey{}).(time.Time); ok {
		return t
	}
	return s.clk.Now()
}

// me is GET /me: the token's user.
func (s *Simulator) me(w http.ResponseWriter, r *http.Request) {
	login, name := s.login(r), "Simulated User"
	if login != DefaultUser {
		name = login
	}
	writeJSON(w, 200, map[string]any{"id": userID(login), "login": login, "name": name, "avatar_url": "https://avatars.githubusercontent.com/u/0?v=4"})
}

// login is the login of the request's user.
func (s *Simulator) login(r *http.Request) string {
	_, token := credentials(r)
	if l := s.sc.Users[token]; l != "" {
		return l
	}
	return DefaultUser
}

// userID is a user's id: fixed for DefaultUser, made from the login otherwise.
func userID(login string) string {
	if login == DefaultUser {
		return "5e5b3c3b-0000-4000-8000-000000000001"
	}
	h := sha256.Sum256([]byte(login))
	return uuid([16]byte(h[:16]))
}

// now is the time the server's answers show: its clock, skewed.
func (s *Simulator) now() time.Time { return s.clk.Now().Add(s.sc.ClockSkew.D()) }

// date is the Date header of an answer sent now.
func (s *Simulator) date() string { return s.now().UTC().Format(http.TimeFormat) }

func (s *Simulator) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// credentials reads the token the way CircleCI accepts it.
func credentials(r *http.Request) (kind, token string) {
	if t := r.Header.Get("Circle-Token"); t != "" {
		return "circle-token", t
	}
	if u, _, ok := r.BasicAuth(); ok {
		return "basic", u
	}
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return "bearer", a
	}
	return "none", ""
}

func msg(m string) map[string]string { return map[string]string{"message": m} }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, mustJSON(v))
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return uuid(b)
}

// uuid formats 16 bytes as a version 4 UUID.
func uuid(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (s *Simulator) project(slug string) *Project {
	for i := range s.sc.Projects {
		if p := &s.sc.Projects[i]; circleci.ShortSlug(p.Slug) == circleci.ShortSlug(slug) {
			return p
		}
	}
	return nil
}

func slugOf(r *http.Request) string {
	if s := r.PathValue("slug"); s != "" {
		return s
	}
	return r.PathValue("vcs") + "/" + r.PathValue("org") + "/" + r.PathValue("repo")
}
