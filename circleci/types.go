package circleci

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// Pipeline states ([spec] Pipeline.state).
const (
	StateCreated      = "created"
	StateErrored      = "errored"
	StateSetupPending = "setup-pending"
	StateSetup        = "setup"
	StatePending      = "pending"
)

// Pipeline is the part of a pipeline object the tool uses. Created is also
// what a trigger returns (id, number, state, created_at).
type Pipeline struct {
	ID          string
	Number      int64
	ProjectSlug string
	State       string
	CreatedAt   time.Time
	Errors      []string // errors[].message, prefixed with their type
	Branch      string   // vcs.branch
	Tag         string   // vcs.tag
	TriggerType string   // trigger.type
	// TriggerParameters is the raw trigger_parameters object, or a
	// non-existent result when the answer had none.
	TriggerParameters gjson.Result
}

// Final reports whether the pipeline's state can no longer change.
func (p Pipeline) Final() bool { return p.State == StateCreated || p.State == StateErrored }

// ProjectSlugOr returns the pipeline's project slug, or slug when the
// answer had none (a trigger's answer has none).
func (p Pipeline) ProjectSlugOr(slug string) string {
	if p.ProjectSlug != "" {
		return p.ProjectSlug
	}
	return slug
}

// Workflow is one workflow of a pipeline.
type Workflow struct {
	ID             string
	Name           string
	Status         string
	Tag            string // "setup" for the setup workflow of dynamic config
	PipelineID     string
	PipelineNumber int64
	ProjectSlug    string
	CreatedAt      time.Time
	StoppedAt      time.Time // zero while it runs
}

// Job is one job of a workflow, used for reporting only.
type Job struct {
	ID        string
	Name      string
	Type      string // build or approval
	Status    string
	Number    int64 // 0 for approval jobs, which have none
	StartedAt time.Time
	StoppedAt time.Time
}

// errNotJSON is wrapped by parsers when a body is not JSON at all.
var errNotJSON = errors.New("not JSON")

func parseObject(body []byte) (gjson.Result, error) {
	if !gjson.ValidBytes(body) {
		return gjson.Result{}, fmt.Errorf("%w: %s", errNotJSON, snippet(body))
	}
	r := gjson.ParseBytes(body)
	if !r.IsObject() {
		return gjson.Result{}, fmt.Errorf("expected a JSON object, got %s", snippet(body))
	}
	return r, nil
}

// ParsePipeline reads a pipeline object, or the smaller object a trigger
// returns. id, number and state are required; everything else is optional.
func ParsePipeline(body []byte) (Pipeline, error) {
	r, err := parseObject(body)
	if err != nil {
		return Pipeline{}, err
	}
	return pipelineFrom(r)
}

func pipelineFrom(r gjson.Result) (Pipeline, error) {
	p := Pipeline{
		ID:                r.Get("id").String(),
		ProjectSlug:       r.Get("project_slug").String(),
		State:             r.Get("state").String(),
		Branch:            r.Get("vcs.branch").String(),
		Tag:               r.Get("vcs.tag").String(),
		TriggerType:       r.Get("trigger.type").String(),
		TriggerParameters: r.Get("trigger_parameters"),
	}
	num := r.Get("number")
	if p.ID == "" || num.Type != gjson.Number || p.State == "" {
		return Pipeline{}, errors.New("pipeline is missing id, number or state")
	}
	p.Number = num.Int()
	p.CreatedAt = parseTime(r.Get("created_at"))
	for _, e := range r.Get("errors").Array() {
		msg := e.Get("message").String()
		if t := e.Get("type").String(); t != "" {
			msg = t + ": " + msg
		}
		p.Errors = append(p.Errors, msg)
	}
	return p, nil
}

// Page is one page of a paginated list.
type Page struct {
	Items []gjson.Result
	Next  string // "" on the last page
}

// ParsePage reads {"items": [...], "next_page_token": string|null}.
func ParsePage(body []byte) (Page, error) {
	r, err := parseObject(body)
	if err != nil {
		return Page{}, err
	}
	items := r.Get("items")
	if !items.IsArray() {
		return Page{}, errors.New(`list answer has no "items" array`)
	}
	return Page{Items: items.Array(), Next: r.Get("next_page_token").String()}, nil
}

// ParseWorkflow reads one workflow object; id, name and status are required.
func ParseWorkflow(r gjson.Result) (Workflow, error) {
	w := Workflow{
		ID:             r.Get("id").String(),
		Name:           r.Get("name").String(),
		Status:         r.Get("status").String(),
		Tag:            r.Get("tag").String(),
		PipelineID:     r.Get("pipeline_id").String(),
		PipelineNumber: r.Get("pipeline_number").Int(),
		ProjectSlug:    r.Get("project_slug").String(),
		CreatedAt:      parseTime(r.Get("created_at")),
		StoppedAt:      parseTime(r.Get("stopped_at")),
	}
	if w.ID == "" || w.Name == "" || w.Status == "" {
		return Workflow{}, errors.New("workflow is missing id, name or status")
	}
	return w, nil
}

// ParseJob reads one job object; id, name and status are required.
func ParseJob(r gjson.Result) (Job, error) {
	j := Job{
		ID:        r.Get("id").String(),
		Name:      r.Get("name").String(),
		Type:      r.Get("type").String(),
		Status:    r.Get("status").String(),
		Number:    r.Get("job_number").Int(),
		StartedAt: parseTime(r.Get("started_at")),
		StoppedAt: parseTime(r.Get("stopped_at")),
	}
	if j.ID == "" || j.Name == "" || j.Status == "" {
		return Job{}, errors.New("job is missing id, name or status")
	}
	return j, nil
}

// ParseMessage extracts the human message from an answer body: {"message"},
// {"error"}, or plain text (CircleCI sends "Rate limited." as text).
func ParseMessage(body []byte) string {
	if gjson.ValidBytes(body) {
		r := gjson.ParseBytes(body)
		for _, k := range []string{"message", "error"} {
			if m := r.Get(k); m.Type == gjson.String && m.Str != "" {
				return oneLine(m.Str, 300)
			}
		}
	}
	if looksLikeHTML(body) {
		return ""
	}
	return oneLine(string(body), 300)
}

func looksLikeHTML(body []byte) bool {
	s := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 64)])))
	return strings.HasPrefix(s, "<!doctype") || strings.HasPrefix(s, "<html") || strings.HasPrefix(s, "<")
}

func parseTime(r gjson.Result) time.Time {
	if r.Type != gjson.String {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, r.Str)
	if err != nil {
		return time.Time{}
	}
	return t
}

// snippet shows the start of a body that could not be read, on one line.
func snippet(body []byte) string {
	if len(body) == 0 {
		return "an empty body"
	}
	if looksLikeHTML(body) {
		return "an HTML page"
	}
	return fmt.Sprintf("%q", oneLine(string(body), 60))
}

func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}
