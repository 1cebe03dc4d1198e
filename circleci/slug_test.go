package circleci

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseSlug(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    Slug
		wantErr string
	}{
		{in: "gh/acme/api", want: Slug{"gh", "acme", "api"}},
		{in: "github/acme/api.js", want: Slug{"github", "acme", "api.js"}},
		{in: "bb/team/repo_1", want: Slug{"bb", "team", "repo_1"}},
		{in: "bitbucket/team/repo-1", want: Slug{"bitbucket", "team", "repo-1"}},
		{in: "circleci/43G3lM5RtfFE7v5sa4nWAU/44n9wujWcTnVZ2b5S8Fnat", want: Slug{"circleci", "43G3lM5RtfFE7v5sa4nWAU", "44n9wujWcTnVZ2b5S8Fnat"}},
		{in: "acme/api", wantErr: "three parts"},
		{in: "gh/acme/api/extra", wantErr: "three parts"},
		{in: "gl/acme/api", wantErr: "must start with gh/"},
		{in: "gh//api", wantErr: "is not an organization"},
		{in: "gh/acme/..", wantErr: "is not an organization"},
		{in: "gh/acme/a b", wantErr: "is not an organization"},
		{in: "gh/acme/api?x=1", wantErr: "is not an organization"},
		{in: "", wantErr: "three parts"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSlug(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSlug(%q) error = %v, want it to mention %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSlug(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestSlugSpelling(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]string{
		"github/a/b": {"gh/a/b", "github/a/b"}, "gh/a/b": {"gh/a/b", "github/a/b"},
		"bitbucket/a/b": {"bb/a/b", "bitbucket/a/b"}, "bb/a/b": {"bb/a/b", "bitbucket/a/b"},
		"circleci/x/y": {"circleci/x/y", "circleci/x/y"},
	} {
		s, _ := ParseSlug(in)
		if got := [2]string{s.Short().String(), s.Long().String()}; got != want {
			t.Errorf("ParseSlug(%q): short, long = %q, want %q", in, got, want)
		}
	}
	a, _ := ParseSlug("github/Acme/API")
	b, _ := ParseSlug("gh/acme/api")
	if !a.SameProject(b) || a.SameProject(Slug{"bb", "acme", "api"}) {
		t.Error("SameProject should ignore case and the VCS's spelling, and nothing else")
	}
	if got := (Slug{"gh", "a b", "c%d"}).Path(); got != "/project/gh/a%20b/c%25d" {
		t.Errorf("Path() = %q", got)
	}
}

// FuzzParseSlug: every slug accepted prints back as given, its path
// unescapes to its own three segments, and its spellings agree.
func FuzzParseSlug(f *testing.F) {
	for _, s := range []string{"gh/a/b", "circleci/x/y", "bb/a/b", "gh/a", "gh/../b", "gh/a/b/c", "github/A.b/c_d-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sl, err := ParseSlug(s)
		if err != nil {
			return
		}
		if sl.String() != s {
			t.Fatalf("ParseSlug(%q).String() = %q", s, sl.String())
		}
		u, err := url.PathUnescape(sl.Path())
		if err != nil || u != "/project/"+s || strings.Count(sl.Path(), "/") != 4 {
			t.Fatalf("Path() of %q = %q", s, sl.Path())
		}
		if sl.Short().Long() != sl.Long() || sl.Long().Short() != sl.Short() || !sl.SameProject(sl.Long()) {
			t.Fatalf("spellings of %q disagree: %v %v", s, sl.Short(), sl.Long())
		}
	})
}
