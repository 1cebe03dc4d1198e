package circleci

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Test is one test result of a job, from GET /project/{slug}/{job-number}/tests.
type Test struct {
	Name      string
	Classname string
	File      string
	Result    string // e.g. success, failure, error, skipped
	Message   string // the first line of the failure message, that is not blank
	RunTime   float64
	Source    string
}

// Failed reports whether the test did not pass: failure and error results,
// and anything else that is not success or skipped.
func (t Test) Failed() bool {
	switch t.Result {
	case "success", "passed", "skipped", "":
		return false
	}
	return true
}

// Artifact is one artifact of a job.
type Artifact struct {
	Path      string
	NodeIndex int64
	URL       string
}

// Rerun is what POST /workflow/{id}/rerun reruns: the failed jobs, the
// jobs named by id (with SparseTree), or with neither the whole workflow.
type Rerun struct {
	FromFailed bool
	Jobs       []string // job ids
	SparseTree bool
}

// jobPath is /project/{slug}/{job-number}.
func jobPath(slug string, number int64) string {
	return splitSlug(slug).Path() + "/" + strconv.FormatInt(number, 10)
}

// Tests reads every page of a job's test results. slug is a project slug as
// answers give it (gh/acme/api).
func (c *Client) Tests(ctx context.Context, slug string, jobNumber int64) ([]Test, error) {
	tests, _, err := list(ctx, c, jobPath(slug, jobNumber)+"/tests", maxPages, parseTest, nil)
	return tests, err
}

// Artifacts reads every page of a job's artifacts.
func (c *Client) Artifacts(ctx context.Context, slug string, jobNumber int64) ([]Artifact, error) {
	arts, _, err := list(ctx, c, jobPath(slug, jobNumber)+"/artifacts", maxPages, parseArtifact, nil)
	return arts, err
}

// Workflow reads GET /workflow/{id}.
func (c *Client) Workflow(ctx context.Context, id string) (Workflow, error) {
	return getAs(ctx, c, "/workflow/"+url.PathEscape(id), nil, func(body []byte) (Workflow, error) {
		r, err := parseObject(body)
		if err != nil {
			return Workflow{}, err
		}
		return parseWorkflow(r)
	})
}

// RerunWorkflow sends POST /workflow/{id}/rerun and returns the id of the
// new workflow.
func (c *Client) RerunWorkflow(ctx context.Context, id string, r Rerun) (string, error) {
	path := "/workflow/" + url.PathEscape(id) + "/rerun"
	body := map[string]any{}
	switch {
	case r.FromFailed:
		body["from_failed"] = true
	case len(r.Jobs) > 0:
		body["jobs"] = r.Jobs
		if r.SparseTree {
			body["sparse_tree"] = true
		}
	}
	_, data, err := c.Do(ctx, http.MethodPost, path, nil, body)
	if err != nil {
		return "", err
	}
	obj, err := parseObject(data)
	if err == nil && str(obj, "workflow_id") == "" {
		err = errors.New("no workflow_id")
	}
	if err != nil {
		return "", c.redact(&DecodeError{Method: http.MethodPost, Path: path, Err: err})
	}
	return str(obj, "workflow_id"), nil
}

// NewestPipeline reads the newest pipeline of a project on a branch (any
// branch when empty) from GET /project/{slug}/pipeline; ok is false when
// there is none.
func (c *Client) NewestPipeline(ctx context.Context, slug Slug, branch string) (p Pipeline, ok bool, err error) {
	path := slug.Short().Path() + "/pipeline"
	var q url.Values
	if branch != "" {
		q = url.Values{"branch": {branch}}
	}
	pg, err := getAs(ctx, c, path, q, parsePage)
	if err != nil || len(pg.Items) == 0 {
		return Pipeline{}, false, err
	}
	p, err = pipelineFrom(pg.Items[0])
	if err != nil {
		return Pipeline{}, false, c.redact(&DecodeError{Method: http.MethodGet, Path: path, Err: err})
	}
	return p, true, nil
}

func parseTest(r gjson.Result) (Test, error) {
	t := Test{
		Name: str(r, "name"), Classname: str(r, "classname"), File: str(r, "file"), Result: str(r, "result"),
		Message: firstLine(r.Get("message").String()), RunTime: r.Get("run_time").Float(), Source: str(r, "source"),
	}
	if t.Name == "" && t.Classname == "" {
		return Test{}, errors.New("test is missing name and classname")
	}
	return t, nil
}

func parseArtifact(r gjson.Result) (Artifact, error) {
	a := Artifact{Path: str(r, "path"), NodeIndex: r.Get("node_index").Int(), URL: str(r, "url")}
	if a.Path == "" || a.URL == "" {
		return Artifact{}, errors.New("artifact is missing path or url")
	}
	return a, nil
}

// firstLine is the first line of s that is not blank, on one line, capped.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		if l := oneLine(line, 200); l != "" {
			return l
		}
	}
	return ""
}
