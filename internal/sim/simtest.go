package sim

import (
	"net/http/httptest"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/internal/clock"
)

// Start runs the simulator on loopback for a test, over a scenario given as
// JSON, and returns it with its base URL (the tool's host).
func Start(tb testing.TB, scenario string, clk clock.Clock) (*Server, string) {
	tb.Helper()
	sc, err := Parse([]byte(scenario))
	if err != nil {
		tb.Fatalf("scenario: %v", err)
	}
	s := New(sc, clk)
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	return s, srv.URL
}
