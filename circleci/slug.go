package circleci

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Slug is a project slug: gh/org/repo, github/org/repo, bb/…, bitbucket/…
// or circleci/<org-id>/<project-id> (GitHub App, GitLab and Bitbucket Data
// Center projects).
type Slug struct {
	VCS, Org, Project string
}

// vcsNames pairs the short spelling of a VCS, which API v2 bodies and the
// pipeline/run path use, with the long one the web app's links use.
var vcsNames = [][2]string{{"gh", "github"}, {"bb", "bitbucket"}}

var segment = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// ParseSlug checks a project slug and splits it.
func ParseSlug(s string) (Slug, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return Slug{}, fmt.Errorf("project slug %q must have three parts, like gh/acme/api or circleci/<org-id>/<project-id>", s)
	}
	sl := Slug{VCS: parts[0], Org: parts[1], Project: parts[2]}
	switch sl.VCS {
	case "gh", "github", "bb", "bitbucket", "circleci":
	default:
		return Slug{}, fmt.Errorf("project slug %q must start with gh/, github/, bb/, bitbucket/ or circleci/", s)
	}
	for _, p := range parts[1:] {
		if !segment.MatchString(p) || p == "." || p == ".." {
			return Slug{}, fmt.Errorf("project slug %q: %q is not an organization or project name (letters, digits, '.', '_' and '-')", s, p)
		}
	}
	return sl, nil
}

// splitSlug splits a slug from an API answer without checking it.
func splitSlug(s string) Slug {
	vcs, rest, _ := strings.Cut(s, "/")
	org, project, _ := strings.Cut(rest, "/")
	return Slug{VCS: vcs, Org: org, Project: project}
}

func (s Slug) String() string { return s.VCS + "/" + s.Org + "/" + s.Project }

// IsCircleCI reports whether the slug is of the circleci/<org-id>/<project-id> form.
func (s Slug) IsCircleCI() bool { return s.VCS == "circleci" }

// Short spells the VCS the way API v2 bodies do: gh and bb.
func (s Slug) Short() Slug { return s.spell(1, 0) }

// Long spells the VCS the way the web app's links do: github and bitbucket.
func (s Slug) Long() Slug { return s.spell(0, 1) }

func (s Slug) spell(from, to int) Slug {
	for _, n := range vcsNames {
		if s.VCS == n[from] {
			s.VCS = n[to]
		}
	}
	return s
}

// SameProject compares slugs as CircleCI does: gh and github alike, names
// case-insensitive.
func (s Slug) SameProject(o Slug) bool {
	return strings.EqualFold(s.Short().String(), o.Short().String())
}

// Path is "/project/gh/acme/api", each segment escaped on its own: never
// one %2F-escaped segment, which pipeline/run answers with 404.
func (s Slug) Path() string {
	return "/project/" + url.PathEscape(s.VCS) + "/" + url.PathEscape(s.Org) + "/" + url.PathEscape(s.Project)
}

// ShortSlug spells a slug string the way API v2 bodies do (gh/…, bb/…),
// for comparing a project_slug from an answer.
func ShortSlug(s string) string { return splitSlug(s).Short().String() }
