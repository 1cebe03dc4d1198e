package circlecitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

type triggerInput struct {
	branch, tag  string
	hasBranch    bool
	params       map[string]any
	definitionID string
	actor        string          // trigger.actor.login
	errors       []PipelineError // its parameters' errors: the pipeline will end errored with them
	shown        string          // project_slug it reports; empty: its own
	extra        bool            // Seed, Noise or CreateAs: not the client's
	at           time.Time       // when it was created; zero: now
}

// triggerPipeline is POST /project/{slug}/pipeline. Without a JSON
// Content-Type CircleCI ignores the body (reported by its users): so does this.
func (s *Simulator) triggerPipeline(w http.ResponseWriter, r *http.Request) {
	p := s.project(slugOf(r))
	if p == nil {
		writeJSON(w, 404, msg("Project not found"))
		return
	}
	in := triggerInput{actor: s.login(r)}
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
func (s *Simulator) runPipeline(w http.ResponseWriter, r *http.Request) {
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
	in := triggerInput{params: raw.Parameters, definitionID: raw.DefinitionID, actor: s.login(r)}
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
func (s *Simulator) create(w http.ResponseWriter, p *Project, in triggerInput) {
	if m := refProblem(p, in); m != "" {
		writeJSON(w, 400, msg(m))
		return
	}
	perrs, refused := paramProblems(p, in.params)
	if refused != "" {
		writeJSON(w, 400, msg(refused))
		return
	}
	if len(perrs) > 0 && p.Undeclared == "reject" {
		writeJSON(w, 400, msg(perrs[0].Message))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var after []Extra
	for _, x := range p.Noise {
		if x.After {
			after = append(after, x)
		} else {
			s.addExtra(p, x, in)
		}
	}
	in.errors = perrs
	pl := s.add(p, in)
	for _, x := range after {
		s.addExtra(p, x, in)
	}
	writeJSON(w, 201, map[string]any{"number": pl.number, "state": s.state(pl, s.clk.Now()), "id": pl.id, "created_at": s.stamp(pl.created, true)})
}

// refProblem is CircleCI's message for a branch or tag it refuses.
func refProblem(p *Project, in triggerInput) string {
	switch {
	case in.hasBranch && in.tag != "":
		return "Only one of branch or tag may be given." // synthetic
	case in.hasBranch && in.branch == "":
		return "Invalid input"
	case in.hasBranch && !matches(p.branches, in.branch):
		return "Branch not found"
	case in.tag != "" && !matches(p.tags, in.tag):
		return "Tag not found" // synthetic
	}
	return ""
}

// paramProblems checks parameters like CircleCI: refused is the message of
// a 400 for what the API itself refuses (limits, types it takes no
// parameter of); the errors are those of parameters the config does not
// declare, or declares with another type.
func paramProblems(p *Project, params map[string]any) (errs []PipelineError, refused string) {
	if len(params) > 100 {
		return nil, "Too many pipeline parameters: at most 100 are allowed." // synthetic
	}
	var unexpected, mistyped []string
	for k, v := range params {
		if m := valueProblem(k, v); m != "" {
			return nil, m
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
	if len(unexpected) > 0 {
		errs = append(errs, PipelineError{Type: "config", Message: "Unexpected argument(s): " + strings.Join(unexpected, ", ")})
	}
	for _, k := range mistyped {
		errs = append(errs, PipelineError{Type: "config", Message: fmt.Sprintf("Argument %s: expected type %s", k, p.Parameters[k])}) // synthetic
	}
	return errs, ""
}

// valueProblem is the 400 message for a parameter the API refuses.
func valueProblem(k string, v any) string {
	if len(k) > 128 {
		return "Pipeline parameter names must be at most 128 characters." // synthetic
	}
	switch v := v.(type) {
	case string:
		if len([]rune(v)) > 512 {
			return "Pipeline parameter values must be at most 512 characters." // synthetic
		}
	case bool:
	case float64:
		if v != float64(int64(v)) {
			return "Unexpected request body provided."
		}
	default:
		return "Unexpected request body provided."
	}
	return ""
}

// add makes a pipeline; s.mu is held.
func (s *Simulator) add(p *Project, in triggerInput) *pipeline {
	s.numbers[p.Slug]++
	id := s.id(p.Slug, s.numbers[p.Slug])
	created := in.at
	if created.IsZero() {
		created = s.clk.Now()
	}
	pl := &pipeline{id: id, slug: p.Slug, shown: in.shown, number: s.numbers[p.Slug], project: p, created: created,
		branch: in.branch, tag: in.tag, params: in.params, definitionID: in.definitionID, actor: in.actor, extra: in.extra,
		errors:  append(slices.Clone(in.errors), p.Pipeline.Errors...),
		errored: len(in.errors) > 0 || (len(p.Pipeline.Errors) > 0 && p.Pipeline.ErrorsState == "errored")}
	if pl.shown == "" {
		pl.shown = p.Slug
	}
	if !in.hasBranch && in.tag == "" {
		pl.branch = p.DefaultBranch
	}
	if !pl.errored {
		for i := range p.Pipeline.Workflows {
			s.addWorkflow(pl, &workflow{spec: &p.Pipeline.Workflows[i], jobs: p.Pipeline.Workflows[i].Jobs})
		}
	}
	s.pipelines = append(s.pipelines, pl)
	s.byID[pl.id] = pl
	return pl
}

// addExtra makes a pipeline of Seed or Noise, its fields defaulting to
// those of like; s.mu is held.
func (s *Simulator) addExtra(p *Project, x Extra, like triggerInput) {
	in := triggerInput{actor: x.Actor, branch: like.branch, tag: like.tag, hasBranch: like.hasBranch,
		params: like.params, definitionID: like.definitionID, shown: x.Slug, extra: true, at: like.at}
	if in.actor == "" {
		in.actor = like.actor
	}
	if x.Branch != "" || x.Tag != "" {
		in.branch, in.tag, in.hasBranch = x.Branch, x.Tag, x.Branch != ""
	}
	if x.Parameters != nil {
		in.params = x.Parameters
	}
	s.add(p, in)
}

// CreateAs creates a pipeline in a project as if the user login had
// triggered it on branch (empty: the default branch) with params, without
// validating either: another user's pipeline, say, for a client to ignore.
// It returns the pipeline's id. PipelineCount does not count it.
func (s *Simulator) CreateAs(login, slug, branch string, params map[string]any) (string, error) {
	p := s.project(slug)
	if p == nil {
		return "", fmt.Errorf("no project %s in the scenario", slug)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pl := s.add(p, triggerInput{actor: login, branch: branch, hasBranch: branch != "", params: params, extra: true})
	return pl.id, nil
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
