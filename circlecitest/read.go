package circlecitest

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

func (s *Simulator) pipelineJSON(p *pipeline, now time.Time) map[string]any {
	errs := []map[string]string{}
	if !now.Before(p.createdAt()) {
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
		"id": p.id, "errors": errs, "project_slug": circleci.ShortSlug(p.shown), "updated_at": s.stamp(p.created, true),
		"number": p.number, "trigger_parameters": params, "state": s.state(p, now),
		"created_at": s.stamp(p.created, true),
		"trigger": map[string]any{"received_at": s.stamp(p.created.Add(-20*time.Millisecond), true), "type": "api",
			"actor": map[string]string{"login": p.actor, "avatar_url": "https://avatars.githubusercontent.com/u/0?v=4"}},
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

func (s *Simulator) workflowJSON(w *workflow, now time.Time) map[string]any {
	st, stopped := s.status(w, now)
	at, _ := s.appearAt(w, now)
	out := map[string]any{
		"pipeline_id": w.p.id, "id": w.id, "name": w.spec.Name, "project_slug": circleci.ShortSlug(w.p.slug),
		"status": st, "started_by": "5e5b3c3b-0000-4000-8000-000000000001", "pipeline_number": w.p.number,
		"created_at": s.stamp(at, false), "stopped_at": nil,
	}
	if !stopped.IsZero() {
		out["stopped_at"] = s.stamp(stopped, false)
	}
	if w.spec.Tag != "" && !w.spec.HideTag {
		out["tag"] = w.spec.Tag
	}
	if max := w.line().spec.MaxAutoReruns; max > 0 {
		out["max_auto_reruns"] = max
	}
	if w.autoNumber > 0 {
		out["auto_rerun_number"] = w.autoNumber
	}
	if !w.canceledAt.IsZero() && st == "canceled" {
		out["canceled_by"] = "5e5b3c3b-0000-4000-8000-000000000001"
	}
	return out
}

// onPipeline and onWorkflow wrap handlers of /pipeline/{id}… and
// /workflow/{id}…: they lock the state and answer 404 for unknown ids (and
// for workflows not listed yet).
func (s *Simulator) onPipeline(h func(http.ResponseWriter, *http.Request, *pipeline, time.Time)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		p := s.byID[r.PathValue("id")]
		if p == nil {
			writeJSON(w, 404, msg("Pipeline not found")) // synthetic
			return
		}
		now := s.when(r)
		s.autoReruns(p, now)
		h(w, r, p, now)
	}
}

func (s *Simulator) onWorkflow(h func(http.ResponseWriter, *http.Request, *workflow, time.Time)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.when(r)
		wf := s.wfByID[r.PathValue("id")]
		if wf == nil {
			writeJSON(w, 404, msg("Workflow not found")) // synthetic
			return
		}
		s.autoReruns(wf.p, now)
		if _, listed := s.appearAt(wf, now); !listed {
			writeJSON(w, 404, msg("Workflow not found"))
			return
		}
		h(w, r, wf, now)
	}
}

func (s *Simulator) getPipeline(w http.ResponseWriter, r *http.Request, p *pipeline, now time.Time) {
	writeJSON(w, 200, s.pipelineJSON(p, now))
}

func (s *Simulator) listWorkflows(w http.ResponseWriter, r *http.Request, p *pipeline, now time.Time) {
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

// getConfig is GET /pipeline/{id}/config: setup-config is there only for
// a pipeline that used dynamic config (synthetic source texts).
func (s *Simulator) getConfig(w http.ResponseWriter, r *http.Request, p *pipeline, now time.Time) {
	cfg := map[string]any{"source": "version: 2.1\n", "compiled": "version: 2\n"}
	if len(p.setup()) > 0 {
		cfg["setup-config"] = "version: 2.1\nsetup: true\n"
		cfg["compiled-setup-config"] = "version: 2\n"
	}
	writeJSON(w, 200, cfg)
}

// WorkflowTruth is a workflow as the timeline has it, faults and hidden
// tags aside.
type WorkflowTruth struct {
	ID, Name, Status, Tag string
	Created, Stopped      time.Time // Stopped is zero while it runs
	// RerunDue tells that CircleCI will rerun this failed run by itself
	// (max_auto_reruns), and has not yet.
	RerunDue bool
}

// PipelineTruth is a pipeline at a moment: its state, its errors, and the
// workflows listed then.
type PipelineTruth struct {
	State     string
	Errors    []PipelineError
	Workflows []WorkflowTruth
}

// Truth is a pipeline at a moment (at, since the simulator started). Tests
// hold a client's verdict against it.
func (s *Simulator) Truth(pipelineID string, at time.Duration) (PipelineTruth, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.byID[pipelineID]
	if p == nil {
		return PipelineTruth{}, false
	}
	now := s.start.Add(at)
	s.autoReruns(p, now)
	t := PipelineTruth{State: s.state(p, now)}
	if !now.Before(p.createdAt()) {
		t.Errors = p.errors
	}
	for _, w := range p.workflows {
		if created, listed := s.appearAt(w, now); listed {
			st, stopped := s.status(w, now)
			due := s.rerunDue(w, now)
			t.Workflows = append(t.Workflows, WorkflowTruth{ID: w.id, Name: w.spec.Name, Status: st, Tag: w.spec.Tag,
				Created: created, Stopped: stopped, RerunDue: due})
		}
	}
	return t, true
}

func (s *Simulator) getWorkflow(w http.ResponseWriter, r *http.Request, wf *workflow, now time.Time) {
	writeJSON(w, 200, s.workflowJSON(wf, now))
}

func (s *Simulator) listJobs(w http.ResponseWriter, r *http.Request, wf *workflow, now time.Time) {
	st, stopped := s.status(wf, now)
	at, _ := s.appearAt(wf, now)
	var items []any
	for i, j := range wf.jobs {
		typ := j.Type
		if typ == "" {
			typ = "build"
		}
		status := j.Status
		if st == "running" {
			status = "running"
		}
		deps := []string{}
		for _, r := range j.Requires {
			if k := slices.IndexFunc(wf.jobs, func(o JobSpec) bool { return o.Name == r }); k >= 0 {
				deps = append(deps, wf.jobIDs[k])
			}
		}
		item := map[string]any{"dependencies": deps, "id": wf.jobIDs[i], "name": j.Name,
			"project_slug": circleci.ShortSlug(wf.p.slug), "status": status, "type": typ, "started_at": nil}
		if wf.jobEnd != nil {
			s.timedJob(item, wf, i, at, now)
			items = append(items, item)
			continue
		}
		if n := wf.jobNumbers[i]; n != 0 {
			item["job_number"] = n
		}
		if typ == "approval" {
			item["approval_request_id"] = wf.jobIDs[i]
		}
		if typ != "approval" || status != "on_hold" { // a waiting approval has not started
			item["started_at"] = s.stamp(at, false)
			if !stopped.IsZero() {
				item["stopped_at"] = s.stamp(stopped, false)
			}
		}
		items = append(items, item)
	}
	s.page(w, r, "job"+wf.id, items)
}

// timedJob sets the status and times of job i of a workflow timed by its
// jobs, which appeared at at: blocked, running, then its status; canceled
// if the workflow was canceled before it ended.
func (s *Simulator) timedJob(item map[string]any, wf *workflow, i int, at, now time.Time) {
	start, end := at.Add(wf.jobStart[i]), at.Add(wf.jobEnd[i])
	if c := wf.canceledAt; !c.IsZero() && c.Before(end) && !c.After(now) {
		item["status"] = "canceled"
		if c.After(start) {
			item["started_at"], item["stopped_at"] = s.stamp(start, false), s.stamp(c, false)
		}
		return
	}
	switch {
	case wf.jobSkipped[i] && !now.Before(start):
		item["status"] = "not_run" // a job it requires failed
	case now.Before(start):
		item["status"] = "blocked"
	case now.Before(end):
		item["status"], item["started_at"] = "running", s.stamp(start, false)
	default:
		item["status"], item["started_at"], item["stopped_at"] = wf.jobs[i].Status, s.stamp(start, false), s.stamp(end, false)
	}
}

func (s *Simulator) cancelWorkflow(w http.ResponseWriter, r *http.Request, wf *workflow, now time.Time) {
	if st, _ := s.status(wf, now); !terminal(st) && wf.canceledAt.IsZero() {
		wf.canceledAt = now
	}
	writeJSON(w, 202, msg("Accepted."))
}

// listPipelines is GET /project/{slug}/pipeline[?branch=] or, for mine,
// …/pipeline/mine: only the token's user's. Newest first; a pipeline is
// listed once the project's ListLag has passed.
func (s *Simulator) listPipelines(mine bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.project(slugOf(r))
		if p == nil {
			writeJSON(w, 404, msg("Project not found"))
			return
		}
		login, branch := s.login(r), r.URL.Query().Get("branch")
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.when(r)
		var items []any
		for _, pl := range slices.Backward(s.pipelines) {
			switch {
			case pl.project != p, now.Sub(pl.created) < p.ListLag.D():
			case mine && pl.actor != login, branch != "" && pl.branch != branch:
			default:
				items = append(items, s.pipelineJSON(pl, now))
			}
		}
		list := "pl" + p.Slug
		if mine {
			list = "mine" + p.Slug
		}
		s.page(w, r, list, items)
	}
}

// page answers one page of items. Page tokens are opaque, long and bound to
// their list, like CircleCI's. An Endless fault makes every page point to
// a fresh one.
func (s *Simulator) page(w http.ResponseWriter, r *http.Request, list string, items []any) {
	off := 0
	tok := r.URL.Query().Get("page-token")
	if tok != "" {
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
		next = pageToken(end, list, s.id("page", s.pages.Add(1))) // unique: the chain of one read
	}
	m, _ := r.Context().Value(marksKey{}).(*marks)
	whole := false // the read has seen every item, whatever token it is given
	if f := faultOf(r); f != nil && f.Endless != "" {
		if tok != "" && f.Endless == "empty" {
			if off < end { // the page had items: the read these pages make hides them
				m.mangled.Store(true)
				s.spoil(tok)
			} else { // past the last item: a client may end the read here
				whole = true
			}
			off, end = 0, 0
		} else if tok != "" {
			off, end = 0, min(s.sc.PageSize, len(items))
			// The first page again: the read these pages make is not the
			// truth, from its first page on.
			m.mangled.Store(true)
			s.spoil(tok)
		}
		next = pageToken(end, list, s.id("page", s.pages.Add(1)))
	}
	if next, ok := next.(string); ok && !whole {
		s.chains.Store(next, &chain{marks: m, token: tok})
		m.open.Store(true)
	} else {
		s.walk(tok, func(m *marks) { m.open.Store(false) }) // the read got the last page
	}
	page := items[off:end]
	if page == nil {
		page = []any{}
	}
	writeJSON(w, 200, map[string]any{"next_page_token": next, "items": page})
}

// spoil marks mangled the pages of a read that led to page token tok ("":
// none): the read failed at a later page.
func (s *Simulator) spoil(tok string) {
	s.walk(tok, func(m *marks) { m.mangled.Store(true) })
}

// walk calls f with the marks of each page of the read that led to page
// token tok, newest first.
func (s *Simulator) walk(tok string, f func(*marks)) {
	if tok == "" {
		return
	}
	for c, ok := s.chains.Load(tok); ok; c, ok = s.chains.Load(c.(*chain).token) {
		f(c.(*chain).marks)
	}
}

// chain links the answer that gave a page token to the token of the page
// it answered ("" for the first page).
type chain struct {
	marks *marks
	token string
}

func pageToken(off int, list, pad string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(off) + "|" + list + "|" + pad))
}
