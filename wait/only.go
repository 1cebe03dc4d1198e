package wait

import (
	"slices"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// only keeps the workflows named in names; all of them for none.
func only(wfs []circleci.Workflow, names []string) []circleci.Workflow {
	if len(names) == 0 {
		return wfs
	}
	return slices.DeleteFunc(slices.Clone(wfs), func(w circleci.Workflow) bool { return !slices.Contains(names, w.Name) })
}
