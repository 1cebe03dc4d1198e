package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/circleci-trigger/circleci-trigger/rerun"
	"github.com/circleci-trigger/circleci-trigger/trigger"
)

// rerun reads rerun-workflow and jobs. A workflow given by name is looked
// up in the newest pipeline of project-slug on branch, both defaulting as
// for a trigger.
func (in *inputs) rerun(set map[string]bool, getenv func(string) string) (*rerun.Request, error) {
	r := &rerun.Request{Workflow: strings.TrimSpace(in.rerunWorkflow), Branch: in.branch}
	var errs []error
	if strings.ContainsAny(r.Workflow, "\n\r") {
		errs = append(errs, errors.New("rerun-workflow: one workflow id or name, on one line"))
	}
	cur := currentRepo(getenv)
	slugText := firstNonEmpty(in.projectSlug, cur.slug)
	switch {
	case slugText == "" && trigger.IsUUID(r.Workflow):
		// A workflow id needs no project.
	case slugText == "":
		errs = append(errs, errors.New("no project-slug: rerun-workflow looks the workflow up in a project; give one, like gh/acme/api"))
	default:
		slug, err := parseSlug(slugText)
		if err != nil {
			errs = append(errs, err)
			break
		}
		r.Slug = slug
		if c, err := parseSlug(cur.slug); !set["branch"] && err == nil && c.SameProject(slug) {
			r.Branch = cur.branch
		}
	}
	if jobs := strings.TrimSpace(in.jobs); jobs == "failed" {
		r.Failed = true
	} else if jobs != "" {
		for _, j := range strings.Split(jobs, ",") {
			if j = strings.TrimSpace(j); j != "" && !slices.Contains(r.Jobs, j) {
				r.Jobs = append(r.Jobs, j)
			}
		}
		if slices.Contains(r.Jobs, "failed") {
			errs = append(errs, fmt.Errorf("jobs: failed reruns the failed jobs, on its own; %q mixes it with job names", jobs))
		}
	}
	return r, errors.Join(errs...)
}
