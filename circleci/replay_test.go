package circleci

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Answers found in public sources (testdata/replay, SOURCES.md says where
// each comes from and which are recorded traffic), replayed through the
// client's methods as CircleCI would serve them.
func TestReplayedAnswers(t *testing.T) {
	t.Parallel()
	serve := func(t *testing.T, name string, code int) *Client {
		body := read(t, "replay/"+name)
		return newClient(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", "Thu, 01 Jan 2026 00:00:00 GMT")
			w.WriteHeader(code)
			w.Write(body)
		})
	}
	ctx := context.Background()
	slug, _ := ParseSlug("gh/acme/api")

	t.Run("automatic rerun fields", func(t *testing.T) {
		// The spec's rendering has a next page token of "string": read its
		// one page.
		pg, err := parsePage(read(t, "replay/withone-spec-render__pipeline-workflows.200.auto-rerun-fields.json"))
		if err != nil || len(pg.Items) != 1 {
			t.Fatalf("page = %+v, %v", pg, err)
		}
		if w, err := parseWorkflow(pg.Items[0]); err != nil || w.MaxAutoReruns != 5 || w.AutoRerunNumber != 1 || w.Status != "running" {
			t.Errorf("listed workflow = %+v, %v", w, err)
		}
		w, err := serve(t, "withone-spec-render__get-workflow.200.auto-rerun-fields.json", 200).Workflow(ctx, "w")
		if err != nil || w.MaxAutoReruns != 5 || w.AutoRerunNumber != 1 || w.Tag != "setup" {
			t.Errorf("Workflow = %+v, %v", w, err)
		}
	})
	t.Run("an approval job with a job number (2024)", func(t *testing.T) {
		jobs, err := serve(t, "CIAnalyzer__workflow-jobs.200.approval-with-job-number.truncated-closed.json", 200).Jobs(ctx, "w")
		if err != nil || len(jobs) != 2 {
			t.Fatalf("Jobs = %+v, %v", jobs, err)
		}
		hold := jobs[1]
		if !hold.IsApproval() || hold.Number != 11257 || jobs[0].IsApproval() {
			t.Errorf("jobs = %+v", jobs)
		}
		if u := NewWebURLs("https://circleci.com").Job("gh/Kesin11/CIAnalyzer", 1, "w", hold); strings.Contains(u, "/jobs/") {
			t.Errorf("the approval job links to %s", u)
		}
	})
	t.Run("two approval jobs (2020)", func(t *testing.T) {
		jobs, err := serve(t, "direside-approval-script__workflow-jobs.200.two-approvals.json", 200).Jobs(ctx, "w")
		approvals := 0
		for _, j := range jobs {
			if j.IsApproval() {
				approvals++
			}
		}
		if err != nil || approvals != 2 {
			t.Errorf("Jobs = %+v, %v", jobs, err)
		}
	})
	t.Run("jobs listed with one id thrice", func(t *testing.T) {
		_, err := serve(t, "bats-check-for-the-end__workflow-jobs.200.anonymized-dup-ids.json", 200).Jobs(ctx, "w")
		var de *DecodeError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "listed twice") {
			t.Errorf("a list that repeats an item is not trusted: %v", err)
		}
	})
	t.Run("a job's dependencies and requires", func(t *testing.T) {
		// Its next_page_token leads to the same page again: a list that
		// repeats itself, so an error, with the first page's jobs.
		jobs, err := serve(t, "withone-spec-render__workflow-jobs.200.requires.json", 200).Jobs(ctx, "w")
		if err == nil || len(jobs) != 1 || len(jobs[0].Dependencies) != 3 || jobs[0].Dependencies[0] != "d212e286-9962-4ed7-92e2-8699622ed720" ||
			jobs[0].StartedAt.IsZero() || jobs[0].AsOf.IsZero() {
			t.Errorf("Jobs = %+v, %v", jobs, err)
		}
	})
	t.Run("a pipeline with errors and a tag", func(t *testing.T) {
		p, ok, err := serve(t, "withone-spec-render__pipelines.200.errors-and-tag.json", 200).NewestPipeline(ctx, slug, "")
		if err != nil || !ok || len(p.Errors) != 1 || p.Errors[0] != "config: A human-readable error message." || p.Tag != "v1.0.0" || p.Actor != "octocat" {
			t.Errorf("NewestPipeline = %+v, %v, %v", p, ok, err)
		}
	})
	t.Run("a workflow with an offset time", func(t *testing.T) {
		w, err := serve(t, "circleci-queue__get-workflow.200.running-offset-time.json", 200).Workflow(ctx, "w")
		if err != nil || w.Status != "running" || !w.StoppedAt.IsZero() || !w.CreatedAt.Equal(time.Date(2019, 1, 17, 15, 17, 23, 0, time.UTC)) {
			t.Errorf("Workflow = %+v, %v", w, err)
		}
	})
	t.Run("workflows of a pipeline", func(t *testing.T) {
		wfs, err := serve(t, "bats-check-for-the-end__pipeline-workflows.200.anonymized.json", 200).Workflows(ctx, "p")
		if err != nil || len(wfs) != 1 || wfs[0].Status != "success" || wfs[0].AsOf.IsZero() || wfs[0].MaxAutoReruns != 0 {
			t.Errorf("Workflows = %+v, %v", wfs, err)
		}
	})
	t.Run("a plain-text 429", func(t *testing.T) {
		_, _, err := serve(t, "CircleCI-Env-Inspector-5__error.429.rate-limited.txt", 429).Do(ctx, "GET", "/me", nil, nil)
		var se *StatusError
		if !errors.As(err, &se) || se.Code != 429 || se.Message != "Rate limited." || se.RetryAfter != defaultRetryAfter {
			t.Errorf("err = %#v", err)
		}
	})
	t.Run("permission denied", func(t *testing.T) {
		_, err := serve(t, "scikit-learn-25338__error.permission-denied.pretty.json", 403).CreatePipeline(ctx, "/project/gh/a/b/pipeline", map[string]any{})
		var se *StatusError
		if !errors.As(err, &se) || se.Code != 403 || se.Message == "" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a trigger's answer", func(t *testing.T) {
		p, err := serve(t, "circleci-docs__trigger-pipeline.201.json", 201).CreatePipeline(ctx, "/project/gh/a/b/pipeline", map[string]any{})
		if err != nil || p.ID == "" || p.Number == 0 || p.AsOf.IsZero() {
			t.Errorf("CreatePipeline = %+v, %v", p, err)
		}
	})
	t.Run("artifacts", func(t *testing.T) {
		arts, err := serve(t, "circleci-docs__artifacts.200.fragment-wrapped.json", 200).Artifacts(ctx, "gh/a/b", 1)
		if err != nil || len(arts) != 3 || arts[0].URL == "" {
			t.Errorf("Artifacts = %+v, %v", arts, err)
		}
	})
	t.Run("insights", func(t *testing.T) {
		ds, err := serve(t, "circleci-docs__insights-workflows.200.json", 200).WorkflowDurations(ctx, slug, "main")
		if err != nil || len(ds) == 0 {
			t.Errorf("WorkflowDurations = %+v, %v", ds, err)
		}
		// The jobs' metrics have the same shape (no recording of them found).
		ds, err = serve(t, "circleci-docs__insights-workflows.200.json", 200).JobDurations(ctx, slug, "build", "main")
		if err != nil || len(ds) == 0 {
			t.Errorf("JobDurations = %+v, %v", ds, err)
		}
	})
}
