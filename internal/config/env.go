package config

import (
	"encoding/json"
	"os"
	"strings"
)

// repo is the repository the job runs for, and its current ref.
type repo struct {
	slug, branch, tag string
}

// currentRepo reads the GitHub or CircleCI environment: the repository
// the job runs for, the default project, and its branch or tag.
func currentRepo(getenv func(string) string) repo {
	if r := getenv("GITHUB_REPOSITORY"); r != "" && getenv("GITHUB_ACTIONS") == "true" {
		return githubRepo(getenv, r)
	}
	if getenv("CIRCLECI") == "true" || getenv("CIRCLE_PROJECT_REPONAME") != "" {
		return circleRepo(getenv)
	}
	return repo{}
}

func githubRepo(getenv func(string) string, name string) repo {
	r := repo{slug: "gh/" + name}
	ref := getenv("GITHUB_REF")
	switch ev := getenv("GITHUB_EVENT_NAME"); {
	case ev == "pull_request" || ev == "pull_request_target":
		// GITHUB_REF is refs/pull/N/merge. A fork's branch does not exist
		// in this repository, so CircleCI must be given pull/N/head.
		n := strings.TrimSuffix(strings.TrimPrefix(ref, "refs/pull/"), "/merge")
		if head := getenv("GITHUB_HEAD_REF"); head != "" && !fromFork(getenv("GITHUB_EVENT_PATH")) {
			r.branch = head
		} else if n != ref {
			r.branch = "pull/" + n + "/head"
		}
	case strings.HasPrefix(ref, "refs/tags/"):
		r.tag = strings.TrimPrefix(ref, "refs/tags/")
	case strings.HasPrefix(ref, "refs/heads/"):
		r.branch = strings.TrimPrefix(ref, "refs/heads/")
	}
	return r
}

// fromFork reads the event payload: does the pull request come from a fork?
func fromFork(eventPath string) bool {
	if eventPath == "" {
		return false
	}
	b, err := os.ReadFile(eventPath)
	if err != nil {
		return false
	}
	var ev struct {
		PullRequest struct {
			Head struct {
				Repo struct {
					Fork     bool   `json:"fork"`
					FullName string `json:"full_name"`
				} `json:"repo"`
			} `json:"head"`
			Base struct {
				Repo struct {
					FullName string `json:"full_name"`
				} `json:"repo"`
			} `json:"base"`
		} `json:"pull_request"`
	}
	if json.Unmarshal(b, &ev) != nil {
		return false
	}
	h, base := ev.PullRequest.Head.Repo.FullName, ev.PullRequest.Base.Repo.FullName
	return h != "" && base != "" && !strings.EqualFold(h, base)
}

func circleRepo(getenv func(string) string) repo {
	user, name := getenv("CIRCLE_PROJECT_USERNAME"), getenv("CIRCLE_PROJECT_REPONAME")
	vcs := ""
	switch u := getenv("CIRCLE_REPOSITORY_URL"); {
	case strings.Contains(u, "github.com"):
		vcs = "gh"
	case strings.Contains(u, "bitbucket.org"):
		vcs = "bb"
	}
	if user == "" || name == "" || vcs == "" {
		return repo{}
	}
	r := repo{slug: vcs + "/" + user + "/" + name}
	if t := getenv("CIRCLE_TAG"); t != "" {
		r.tag = t
		return r
	}
	r.branch = getenv("CIRCLE_BRANCH")
	// CircleCI names a fork's pull request branch pull/N.
	if strings.HasPrefix(r.branch, "pull/") && strings.Count(r.branch, "/") == 1 {
		r.branch += "/head"
	}
	return r
}
