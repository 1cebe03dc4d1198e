// Package sim is a CircleCI API v2 simulator for the endpoints circleci-trigger
// uses: both trigger endpoints with CircleCI's validation and messages,
// pipelines that move through their states on the simulator's clock,
// workflows that appear asynchronously, run, fail, hold and get canceled,
// dynamic config, paginated lists with opaque tokens, and faults on demand.
// Its answers follow the recorded fixtures and the OpenAPI spec; where
// CircleCI's behaviour is not documented the choice is marked "synthetic".
package sim

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/clock"
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
	At          time.Duration   `json:"at"` // since the simulator started

	rawURL string
	token  string
}

// RawURL is the request's URL as sent, for tests that look for leaks.
func (r Request) RawURL() string { return r.rawURL }

// Token is what the request presented as a token; only tests read it.
func (r Request) Token() string { return r.token }

// Server simulates the API. Create it with New; it is an http.Handler that
// serves the API below /api/v2.
type Server struct {
	sc    *Scenario
	clk   clock.Clock
	start time.Time
	mux   *http.ServeMux

	mu        sync.Mutex
	pipelines []*pipeline // in creation order
	byID      map[string]*pipeline
	wfByID    map[string]*workflow
	numbers   map[string]int64
	requests  []Request
	hits      []int // per fault: matching requests seen
}

type pipeline struct {
	id, slug     string
	number       int64
	project      *Project
	created      time.Time
	branch, tag  string
	params       map[string]any
	errors       []PipelineError
	workflows    []*workflow
	definitionID string
}

type workflow struct {
	spec       *WorkflowSpec
	id         string
	p          *pipeline
	canceledAt time.Time
	jobIDs     []string
}

// New makes a simulator over sc; clk nil means the real clock.
func New(sc *Scenario, clk clock.Clock) *Server {
	if clk == nil {
		clk = circleci.SystemClock
	}
	s := &Server{sc: sc, clk: clk, start: clk.Now(), byID: map[string]*pipeline{},
		wfByID: map[string]*workflow{}, numbers: map[string]int64{}, hits: make([]int, len(sc.Faults))}
	m := http.NewServeMux()
	m.HandleFunc("POST /api/v2/project/{vcs}/{org}/{repo}/pipeline", s.triggerPipeline)
	m.HandleFunc("POST /api/v2/project/{slug}/pipeline", s.triggerPipeline) // slug sent as one %2F-escaped segment
	m.HandleFunc("POST /api/v2/project/{vcs}/{org}/{repo}/pipeline/run", s.runPipeline)
	m.HandleFunc("GET /api/v2/project/{vcs}/{org}/{repo}/pipeline/mine", s.myPipelines)
	m.HandleFunc("GET /api/v2/project/{vcs}/{org}/{repo}/pipeline", s.myPipelines)
	m.HandleFunc("GET /api/v2/pipeline/{id}", s.onPipeline(s.getPipeline))
	m.HandleFunc("GET /api/v2/pipeline/{id}/workflow", s.onPipeline(s.listWorkflows))
	m.HandleFunc("GET /api/v2/workflow/{id}", s.onWorkflow(s.getWorkflow))
	m.HandleFunc("GET /api/v2/workflow/{id}/job", s.onWorkflow(s.listJobs))
	m.HandleFunc("POST /api/v2/workflow/{id}/cancel", s.onWorkflow(s.cancelWorkflow))
	m.HandleFunc("GET /api/v2/me", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"id": "5e5b3c3b-0000-4000-8000-000000000001", "login": "sim-user", "name": "Simulated User"})
	})
	m.HandleFunc("/api/v2/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, msg("Not found"))
	})
	m.HandleFunc("GET /pipelines/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>circleci-sim</title><p>Simulated page for %s</p>\n", r.URL.Path)
	})
	m.HandleFunc("GET /_sim/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, s.Requests())
	})
	s.mux = m
	return s
}

// Requests returns a copy of every API request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// PipelineCount counts the pipelines created in a project.
func (s *Server) PipelineCount(slug string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.pipelines {
		if p.slug == slug {
			n++
		}
	}
	return n
}

// ServeHTTP records the request, applies faults, then answers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/v2/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
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

	f := s.fault(rec.Method, rec.Path)
	delay := s.sc.Latency.D()
	if f != nil {
		delay += f.Delay.D()
	}
	if delay > 0 && s.clk.Sleep(r.Context(), delay) != nil {
		return
	}
	// A fault that fails the request after its effect answers into a sink.
	out := httptest.NewRecorder()
	if f == nil || f.AfterEffect || (f.Status == 0 && !f.Drop) {
		if rec.Auth == "none" || !slices.Contains(s.sc.Tokens, rec.token) {
			writeJSON(out, 401, msg("Invalid token provided."))
		} else {
			s.mux.ServeHTTP(out, r)
		}
	}
	rec.Status = out.Code
	switch {
	case f != nil && f.Drop:
		rec.Fault, rec.Status = true, 0
		s.record(rec)
		drop(w)
		return
	case f != nil && f.Status != 0:
		rec.Fault, rec.Status = true, f.Status
		s.record(rec)
		writeFault(w, f)
		return
	}
	s.record(rec)
	for k, v := range out.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(out.Code)
	w.Write(out.Body.Bytes())
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// fault returns the fault that applies to this request, counting hits.
func (s *Server) fault(method, p string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	since := s.clk.Now().Sub(s.start)
	for i := range s.sc.Faults {
		f := &s.sc.Faults[i]
		if (f.Method != "" && f.Method != method) || !f.re.MatchString(p) {
			continue
		}
		if since < f.From.D() || (f.Until > 0 && since >= f.Until.D()) {
			continue
		}
		s.hits[i]++
		n := s.hits[i] - f.Skip
		if n <= 0 || (f.Count > 0 && n > f.Count) {
			continue
		}
		return f
	}
	return nil
}

func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func writeFault(w http.ResponseWriter, f *Fault) {
	body := f.Body
	ct := f.ContentType
	if body == "" {
		ct = "application/json;charset=utf-8"
		body = mustJSON(msg(defaultMessage(f.Status)))
	}
	if ct == "" {
		ct = "text/plain"
	}
	w.Header().Set("Content-Type", ct)
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	for k, v := range f.Headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(f.Status)
	io.WriteString(w, body)
}

// defaultMessage is CircleCI's message for a status (spec examples).
func defaultMessage(code int) string {
	switch code {
	case 401:
		return "Invalid token provided."
	case 403:
		return "Permission denied."
	case 404:
		return "Project not found"
	case 429:
		return "Rate limit exceeded."
	case 503:
		return "Service unavailable."
	}
	if code >= 500 {
		return "Internal server error."
	}
	return http.StatusText(code)
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
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (s *Server) project(slug string) *Project {
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

// ---- triggering

type triggerInput struct {
	branch, tag  string
	hasBranch    bool
	params       map[string]any
	definitionID string
}

// triggerPipeline is POST /project/{slug}/pipeline. Without a JSON
// Content-Type CircleCI ignores the body (reference §1): so does this.
func (s *Server) triggerPipeline(w http.ResponseWriter, r *http.Request) {
	p := s.project(slugOf(r))
	if p == nil {
		writeJSON(w, 404, msg("Project not found"))
		return
	}
	var in triggerInput
	body, _ := io.ReadAll(r.Body)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && len(bytes.TrimSpace(body)) > 0 {
		var raw struct {
			Branch     *string        `json:"branch"`
			Tag        *string        `json:"tag"`
			Parameters map[string]any `json:"parameters"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			writeJSON(w, 400, msg("Invalid input"))
			return
		}
		if raw.Branch != nil {
			in.branch, in.hasBranch = *raw.Branch, true
		}
		if raw.Tag != nil {
			in.tag = *raw.Tag
		}
		in.params = raw.Parameters
	}
	s.create(w, p, in)
}

// runPipeline is POST /project/{provider}/{org}/{project}/pipeline/run.
func (s *Server) runPipeline(w http.ResponseWriter, r *http.Request) {
	p := s.project(slugOf(r))
	if p == nil {
		writeJSON(w, 404, msg("Entity not found"))
		return
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields() // additionalProperties: false
	var raw struct {
		DefinitionID string            `json:"definition_id"`
		Config       map[string]string `json:"config"`
		Checkout     map[string]string `json:"checkout"`
		Parameters   map[string]any    `json:"parameters"`
	}
	if err := dec.Decode(&raw); err != nil || raw.DefinitionID == "" {
		writeJSON(w, 400, msg("Unexpected request body provided."))
		return
	}
	if !slices.Contains(p.Definitions, raw.DefinitionID) {
		writeJSON(w, 404, msg("Entity not found"))
		return
	}
	in := triggerInput{params: raw.Parameters, definitionID: raw.DefinitionID}
	for _, ref := range []map[string]string{raw.Config, raw.Checkout} {
		if len(ref) > 1 || (len(ref) == 1 && ref["branch"] == "" && ref["tag"] == "") {
			writeJSON(w, 400, msg("Unexpected request body provided."))
			return
		}
	}
	if b, ok := raw.Config["branch"]; ok {
		in.branch, in.hasBranch = b, true
	}
	in.tag = raw.Config["tag"]
	if raw.Checkout["branch"] != raw.Config["branch"] || raw.Checkout["tag"] != raw.Config["tag"] {
		// synthetic: the tool always sends the same ref to both.
		writeJSON(w, 400, msg("Unexpected request body provided."))
		return
	}
	if p.NotCreated != "" {
		writeJSON(w, 200, msg(p.NotCreated))
		return
	}
	s.create(w, p, in)
}

// create validates the ref and parameters like CircleCI and makes the pipeline.
func (s *Server) create(w http.ResponseWriter, p *Project, in triggerInput) {
	switch {
	case in.hasBranch && in.tag != "":
		writeJSON(w, 400, msg("Only one of branch or tag may be given.")) // synthetic
		return
	case in.hasBranch && in.branch == "":
		writeJSON(w, 400, msg("Invalid input"))
		return
	case in.hasBranch && !matchAny(p.Branches, in.branch):
		writeJSON(w, 400, msg("Branch not found"))
		return
	case in.tag != "" && !matchAny(p.Tags, in.tag):
		writeJSON(w, 400, msg("Tag not found")) // synthetic
		return
	}
	if len(in.params) > 100 {
		writeJSON(w, 400, msg("Too many pipeline parameters: at most 100 are allowed.")) // synthetic
		return
	}
	var unexpected, mistyped []string
	for k, v := range in.params {
		if len(k) > 128 {
			writeJSON(w, 400, msg("Pipeline parameter names must be at most 128 characters.")) // synthetic
			return
		}
		switch v := v.(type) {
		case string:
			if len([]rune(v)) > 512 {
				writeJSON(w, 400, msg("Pipeline parameter values must be at most 512 characters.")) // synthetic
				return
			}
		case bool:
		case float64:
			if v != float64(int64(v)) {
				writeJSON(w, 400, msg("Unexpected request body provided."))
				return
			}
		default:
			writeJSON(w, 400, msg("Unexpected request body provided."))
			return
		}
		typ, ok := p.Parameters[k]
		switch {
		case !ok:
			unexpected = append(unexpected, k)
		case !typeMatches(typ, v):
			mistyped = append(mistyped, k)
		}
	}
	sort.Strings(unexpected)
	sort.Strings(mistyped)
	var perrs []PipelineError
	if len(unexpected) > 0 {
		perrs = append(perrs, PipelineError{Type: "config", Message: "Unexpected argument(s): " + strings.Join(unexpected, ", ")})
	}
	for _, k := range mistyped {
		perrs = append(perrs, PipelineError{Type: "config", Message: fmt.Sprintf("Argument %s: expected type %s", k, p.Parameters[k])}) // synthetic
	}
	if len(perrs) > 0 && p.Undeclared == "reject" {
		writeJSON(w, 400, msg(perrs[0].Message))
		return
	}
	perrs = append(perrs, p.Pipeline.Errors...)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.numbers[p.Slug]++
	pl := &pipeline{id: newID(), slug: p.Slug, number: s.numbers[p.Slug], project: p, created: s.clk.Now(),
		branch: in.branch, tag: in.tag, params: in.params, errors: perrs, definitionID: in.definitionID}
	if !in.hasBranch && in.tag == "" {
		pl.branch = p.DefaultBranch
	}
	if len(perrs) == 0 {
		for i := range p.Pipeline.Workflows {
			wf := &workflow{spec: &p.Pipeline.Workflows[i], id: newID(), p: pl}
			for range wf.spec.Jobs {
				wf.jobIDs = append(wf.jobIDs, newID())
			}
			pl.workflows = append(pl.workflows, wf)
			s.wfByID[wf.id] = wf
		}
	}
	s.pipelines = append(s.pipelines, pl)
	s.byID[pl.id] = pl
	now := s.clk.Now()
	writeJSON(w, 201, map[string]any{"number": pl.number, "state": s.state(pl, now), "id": pl.id, "created_at": stamp(pl.created, true)})
}

// matchAny matches v against globs whose '*' matches anything, '/' included.
func matchAny(globs []string, v string) bool {
	for _, g := range globs {
		if glob(g).MatchString(v) {
			return true
		}
	}
	return false
}

func glob(g string) *regexp.Regexp {
	return regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(g), `\*`, ".*") + "$")
}

func typeMatches(typ string, v any) bool {
	switch v := v.(type) {
	case string:
		return typ == "string" || typ == "enum"
	case bool:
		return typ == "boolean"
	case float64:
		return typ == "integer" && v == float64(int64(v))
	}
	return false
}

// ---- time model

// terminal workflow statuses.
func terminal(st string) bool {
	switch st {
	case "success", "failed", "error", "canceled", "unauthorized", "not_run":
		return true
	}
	return false
}

func (p *pipeline) setup() []*workflow {
	var out []*workflow
	for _, w := range p.workflows {
		if w.spec.Tag == "setup" {
			out = append(out, w)
		}
	}
	return out
}

// setupEnd is when the setup phase ends, and whether it succeeded; ok false
// while it has not ended by now.
func (s *Server) setupEnd(p *pipeline, now time.Time) (end time.Time, success, ok bool) {
	success = true
	for _, w := range p.setup() {
		st, stopped := s.status(w, now)
		if !terminal(st) {
			return time.Time{}, false, false
		}
		if stopped.After(end) {
			end = stopped
		}
		success = success && st == "success"
	}
	return end, success, true
}

// appearAt is when a workflow is listed, or ok false if not (yet) known.
func (s *Server) appearAt(w *workflow, now time.Time) (time.Time, bool) {
	base := w.p.created.Add(w.p.project.Pipeline.CreatedAfter.D())
	if w.spec.Tag != "setup" && len(w.p.setup()) > 0 {
		end, success, ok := s.setupEnd(w.p, now)
		if !ok || !success {
			return time.Time{}, false
		}
		base = end
	}
	at := base.Add(w.spec.Appear.D())
	return at, !now.Before(at)
}

// status of a workflow at now, and when it stopped (zero while running).
func (s *Server) status(w *workflow, now time.Time) (string, time.Time) {
	at, ok := s.appearAt(w, now)
	if !ok {
		return "", time.Time{}
	}
	st, since := "running", at
	for _, step := range w.spec.Steps {
		t := at.Add(step.At.D())
		if t.After(now) {
			break
		}
		if !w.canceledAt.IsZero() && t.After(w.canceledAt) {
			break
		}
		st, since = step.Status, t
	}
	if !terminal(st) && !w.canceledAt.IsZero() && !w.canceledAt.After(now) {
		return "canceled", w.canceledAt
	}
	if terminal(st) {
		return st, since
	}
	return st, time.Time{}
}

func (s *Server) state(p *pipeline, now time.Time) string {
	createdAt := p.created.Add(p.project.Pipeline.CreatedAfter.D())
	hasSetup := len(p.setup()) > 0
	if now.Before(createdAt) {
		if hasSetup {
			return "setup-pending"
		}
		return "pending"
	}
	if len(p.errors) > 0 {
		return "errored"
	}
	if !hasSetup {
		return "created"
	}
	end, _, ok := s.setupEnd(p, now)
	switch {
	case !ok:
		return "setup"
	case now.Before(end.Add(200 * time.Millisecond)):
		return "pending"
	}
	return "created"
}

// stamp formats a time as CircleCI does: milliseconds for pipelines,
// whole seconds for workflows and jobs (reference §1).
func stamp(t time.Time, millis bool) string {
	if millis {
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// ---- reading

func (s *Server) pipelineJSON(p *pipeline, now time.Time) map[string]any {
	errs := []map[string]string{}
	if now.Sub(p.created) >= p.project.Pipeline.CreatedAfter.D() {
		for _, e := range p.errors {
			errs = append(errs, map[string]string{"type": e.Type, "message": e.Message})
		}
	}
	vcsName, org, repo := splitSlug(p.slug)
	repoURL := "https://github.com/" + org + "/" + repo
	provider := "GitHub"
	if vcsName == "bb" || vcsName == "bitbucket" {
		repoURL, provider = "https://bitbucket.org/"+org+"/"+repo, "Bitbucket"
	}
	vcs := map[string]any{
		"origin_repository_url": repoURL, "target_repository_url": repoURL,
		"revision": "9f2c1e0d8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e", "provider_name": provider,
		"commit": map[string]string{"body": "", "subject": "Simulated commit"},
	}
	if p.tag != "" {
		vcs["tag"] = p.tag
	} else {
		vcs["branch"] = p.branch
	}
	params := map[string]any{}
	for k, v := range p.params {
		params[k] = v
	}
	return map[string]any{
		"id": p.id, "errors": errs, "project_slug": circleci.ShortSlug(p.slug), "updated_at": stamp(p.created, true),
		"number": p.number, "trigger_parameters": params, "state": s.state(p, now),
		"created_at": stamp(p.created, true),
		"trigger": map[string]any{"received_at": stamp(p.created.Add(-20*time.Millisecond), true), "type": "api",
			"actor": map[string]string{"login": "sim-user", "avatar_url": "https://avatars.githubusercontent.com/u/0?v=4"}},
		"vcs": vcs,
	}
}

func splitSlug(slug string) (string, string, string) {
	parts := strings.SplitN(slug, "/", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	return parts[0], parts[1], parts[2]
}

func (s *Server) workflowJSON(w *workflow, now time.Time) map[string]any {
	st, stopped := s.status(w, now)
	at, _ := s.appearAt(w, now)
	out := map[string]any{
		"pipeline_id": w.p.id, "id": w.id, "name": w.spec.Name, "project_slug": circleci.ShortSlug(w.p.slug),
		"status": st, "started_by": "5e5b3c3b-0000-4000-8000-000000000001", "pipeline_number": w.p.number,
		"created_at": stamp(at, false), "stopped_at": nil,
	}
	if !stopped.IsZero() {
		out["stopped_at"] = stamp(stopped, false)
	}
	if w.spec.Tag != "" {
		out["tag"] = w.spec.Tag
	}
	if !w.canceledAt.IsZero() && st == "canceled" {
		out["canceled_by"] = "5e5b3c3b-0000-4000-8000-000000000001"
	}
	return out
}

// onPipeline and onWorkflow wrap handlers of /pipeline/{id}… and
// /workflow/{id}…: they lock the state and answer 404 for unknown ids (and
// for workflows not listed yet).
func (s *Server) onPipeline(h func(http.ResponseWriter, *http.Request, *pipeline, time.Time)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		p := s.byID[r.PathValue("id")]
		if p == nil {
			writeJSON(w, 404, msg("Pipeline not found")) // synthetic
			return
		}
		h(w, r, p, s.clk.Now())
	}
}

func (s *Server) onWorkflow(h func(http.ResponseWriter, *http.Request, *workflow, time.Time)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.clk.Now()
		wf := s.wfByID[r.PathValue("id")]
		if wf == nil {
			writeJSON(w, 404, msg("Workflow not found")) // synthetic
			return
		}
		if _, listed := s.appearAt(wf, now); !listed {
			writeJSON(w, 404, msg("Workflow not found"))
			return
		}
		h(w, r, wf, now)
	}
}

func (s *Server) getPipeline(w http.ResponseWriter, r *http.Request, p *pipeline, now time.Time) {
	writeJSON(w, 200, s.pipelineJSON(p, now))
}

func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request, p *pipeline, now time.Time) {
	var items []any
	// Newest first; the API does not document its order, so clients must
	// not depend on it.
	for i := len(p.workflows) - 1; i >= 0; i-- {
		if _, ok := s.appearAt(p.workflows[i], now); ok {
			items = append(items, s.workflowJSON(p.workflows[i], now))
		}
	}
	s.page(w, r, "wf"+p.id, items)
}

func (s *Server) getWorkflow(w http.ResponseWriter, r *http.Request, wf *workflow, now time.Time) {
	writeJSON(w, 200, s.workflowJSON(wf, now))
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, wf *workflow, now time.Time) {
	st, stopped := s.status(wf, now)
	at, _ := s.appearAt(wf, now)
	var items []any
	for i, j := range wf.spec.Jobs {
		typ := j.Type
		if typ == "" {
			typ = "build"
		}
		status := j.Status
		if st == "running" {
			status = "running"
		}
		item := map[string]any{"dependencies": []string{}, "id": wf.jobIDs[i], "name": j.Name,
			"project_slug": circleci.ShortSlug(wf.p.slug), "status": status, "type": typ, "started_at": nil}
		if typ == "approval" {
			item["approval_request_id"] = wf.jobIDs[i] // recorded approval jobs: no job_number, started_at null
		} else {
			item["job_number"] = wf.p.number*100 + int64(i) + 1
			item["started_at"] = stamp(at, false)
			if !stopped.IsZero() {
				item["stopped_at"] = stamp(stopped, false)
			}
		}
		items = append(items, item)
	}
	s.page(w, r, "job"+wf.id, items)
}

func (s *Server) cancelWorkflow(w http.ResponseWriter, r *http.Request, wf *workflow, now time.Time) {
	if st, _ := s.status(wf, now); !terminal(st) && wf.canceledAt.IsZero() {
		wf.canceledAt = now
	}
	writeJSON(w, 202, msg("Accepted."))
}

// myPipelines lists a project's pipelines, newest first. Every token is the
// same simulated user, so "mine" is all of them.
func (s *Server) myPipelines(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.project(slugOf(r))
	if p == nil {
		writeJSON(w, 404, msg("Project not found"))
		return
	}
	now := s.clk.Now()
	var items []any
	for i := len(s.pipelines) - 1; i >= 0; i-- {
		if pl := s.pipelines[i]; pl.project == p {
			items = append(items, s.pipelineJSON(pl, now))
		}
	}
	s.page(w, r, "pl"+p.Slug, items)
}

// page answers one page of items. Page tokens are opaque, long and bound to
// their list, like CircleCI's.
func (s *Server) page(w http.ResponseWriter, r *http.Request, list string, items []any) {
	off := 0
	if tok := r.URL.Query().Get("page-token"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		parts := strings.SplitN(string(raw), "|", 3)
		if err != nil || len(parts) != 3 || parts[1] != list {
			writeJSON(w, 400, msg("Invalid page token.")) // synthetic
			return
		}
		off, _ = strconv.Atoi(parts[0])
	}
	off = min(off, len(items))
	end := min(off+s.sc.PageSize, len(items))
	var next any
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end) + "|" + list + "|" + strings.Repeat("x", 40)))
	}
	page := items[off:end]
	if page == nil {
		page = []any{}
	}
	writeJSON(w, 200, map[string]any{"next_page_token": next, "items": page})
}
