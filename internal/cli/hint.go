package cli

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/trigger"
)

// hint says what to check for an API error about request r, or "".
func hint(err error, r trigger.Request) string {
	var se *circleci.StatusError
	if !errors.As(err, &se) {
		return ""
	}
	what := "the project slug"
	if r.Slug.VCS != "" {
		what += " " + r.Slug.String()
	}
	if r.DefinitionID != "" {
		what += " and the definition id"
	}
	switch se.Code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "check that the token is a valid personal API token with access to the project"
	case http.StatusNotFound:
		return fmt.Sprintf("check %s; a project API token also gets 404, since API v2 takes only personal tokens", what)
	case http.StatusTooManyRequests:
		return "CircleCI is rate limiting this token; try again later or poll less often"
	}
	return ""
}
