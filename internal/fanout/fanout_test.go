package fanout

import (
	"testing"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/trigger"
)

func TestLabels(t *testing.T) {
	t.Parallel()
	a := circleci.Slug{VCS: "gh", Org: "acme", Project: "a"}
	b := circleci.Slug{VCS: "gh", Org: "acme", Project: "b"}
	got := Labels([]trigger.Request{{Slug: a}, {Slug: b, Branch: "x"}, {Slug: b, Tag: "v1"}})
	want := []string{"gh/acme/a", "gh/acme/b (branch x)", "gh/acme/b (tag v1)"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Labels = %q, want %q", got, want)
		}
	}
}
