package circleci

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// WebURLs builds links to CircleCI's web app, in the form of its own links.
type WebURLs struct {
	Base string // e.g. "https://app.circleci.com"
}

// NewWebURLs derives the web app from the API host: circleci.com serves it
// at app.circleci.com, CircleCI server at app.<host>. A loopback or IP host
// (the simulator) serves its own pages.
func NewWebURLs(host string) WebURLs {
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return WebURLs{Base: "https://app.circleci.com"}
	}
	h := u.Hostname()
	if net.ParseIP(h) != nil || h == "localhost" {
		return WebURLs{Base: u.Scheme + "://" + u.Host}
	}
	return WebURLs{Base: u.Scheme + "://app." + strings.TrimPrefix(u.Host, "app.")}
}

// Pipeline is the pipeline's page.
func (w WebURLs) Pipeline(slug string, number int64) string {
	return fmt.Sprintf("%s/pipelines/%s/%d", w.Base, splitSlug(slug).Long(), number)
}

// Workflow is the workflow's page.
func (w WebURLs) Workflow(slug string, number int64, workflowID string) string {
	return w.Pipeline(slug, number) + "/workflows/" + workflowID
}

// Job is the job's page. An approval job has none (it is a button on its
// workflow's page, numbered or not), nor has a job without a number: they
// link to their workflow.
func (w WebURLs) Job(slug string, number int64, workflowID string, j Job) string {
	if !j.HasPage() {
		return w.Workflow(slug, number, workflowID)
	}
	return fmt.Sprintf("%s/jobs/%d", w.Workflow(slug, number, workflowID), j.Number)
}
