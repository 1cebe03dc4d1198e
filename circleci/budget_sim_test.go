package circleci_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
)

// The budget keeps many concurrent users of one client under every kind of
// announced limit, without a single 429, and still uses most of it:
// windows not aligned with the client's start, Reset rounded up or down,
// answers that overtake each other, both families at once, a limit that
// changes. Time is virtual (testing/synctest): a minute of requests takes
// milliseconds.
func TestBudgetKeepsUnderAnnouncedLimits(t *testing.T) {
	t.Parallel()
	const run = time.Minute
	for _, tc := range []struct {
		name   string
		limits []circlecitest.RateLimit
		// least share of the tightest limit the users get, over the run
		use float64
	}{
		{"RateLimit-* 20 per 2s, unaligned", []circlecitest.RateLimit{{Limit: 20, Window: d(2 * time.Second), Offset: d(700 * time.Millisecond), Headers: "ratelimit"}}, 0.6},
		{"RateLimit-* 20 per 2s, Reset rounded down", []circlecitest.RateLimit{{Limit: 20, Window: d(2 * time.Second), Offset: d(1300 * time.Millisecond), Headers: "ratelimit", Floor: true}}, 0.6},
		{"X-RateLimit-Limit-Second 10", []circlecitest.RateLimit{{Limit: 10, Window: d(time.Second), Offset: d(400 * time.Millisecond), Headers: "x-ratelimit-unit"}}, 0.6},
		{"X-RateLimit-* 151 as recorded (Reset 0)", []circlecitest.RateLimit{{Limit: 151, Window: d(time.Second), Offset: d(250 * time.Millisecond), Headers: "x-ratelimit", Floor: true}}, 0.5},
		{"both families, different limits", []circlecitest.RateLimit{
			{Limit: 30, Window: d(3 * time.Second), Offset: d(100 * time.Millisecond), Headers: "ratelimit"},
			{Limit: 8, Window: d(time.Second), Offset: d(600 * time.Millisecond), Headers: "x-ratelimit-unit"},
		}, 0.6},
		{"a limit that drops mid-run", []circlecitest.RateLimit{{Limit: 40, Window: d(2 * time.Second), Offset: d(900 * time.Millisecond), Headers: "ratelimit",
			Changes: []circlecitest.LimitChange{{At: d(20 * time.Second), Limit: 10}, {At: d(40 * time.Second), Limit: 25}}}}, 0.5},
		{"a minute's window", []circlecitest.RateLimit{{Limit: 120, Window: d(time.Minute), Offset: d(17 * time.Second), Headers: "both"}}, 0.9},
	} {
		for _, users := range []int{3, 8, 50} {
			t.Run(fmt.Sprintf("%s/%d users", tc.name, users), func(t *testing.T) {
				t.Parallel()
				sent, limited, late := hammer(t, tc.limits, users, run)
				t.Logf("%s: %d requests, %d answered 429, %.0f allowed", t.Name(), sent, limited, allowance(tc.limits, run))
				// The first requests go out at once, before any answer
				// announced a limit: those over it draw a 429, and only they;
				// so do those in flight when a window starts with a lower limit.
				over := max(users-tightest(tc.limits), 0)
				if limited > over*(1+len(tc.limits[0].Changes)) || (len(tc.limits[0].Changes) == 0 && late > 0) {
					t.Errorf("%d of %d requests answered 429 (%d after the first round trip); want at most %d: those of a burst over the limit",
						limited, sent, late, over)
				}
				// Users that send one request at a time, each answered within
				// 50-150ms, can send no more than 10 a second each.
				want := tc.use * min(allowance(tc.limits, run), float64(users)*10*run.Seconds())
				if float64(sent) < want {
					t.Errorf("%d requests in %s, want at least %.0f", sent, run, want)
				}
			})
		}
	}
}

func d(v time.Duration) circlecitest.Duration { return circlecitest.Duration(v) }

// hammer has users send requests one after the other through one client
// for the run, answers 50-150ms late and out of order, and counts them
// and the 429s.
func hammer(t *testing.T, limits []circlecitest.RateLimit, users int, run time.Duration) (sent, limited, late int) {
	synctest.Test(t, func(t *testing.T) {
		sc := &circlecitest.Scenario{Tokens: []string{"fake-token-budget"}, Latency: d(50 * time.Millisecond), Jitter: d(50 * time.Millisecond),
			RateLimits: limits, Seed: 7}
		s := circlecitest.NewSimulator(sc, nil)
		defer s.Close()
		c := &circleci.Client{BaseURL: "http://127.0.0.1:1", Token: "fake-token-budget", Transport: s.Transport(), Conns: users}
		ctx, cancel := context.WithTimeout(context.Background(), run)
		defer cancel()
		var wg sync.WaitGroup
		for range users {
			wg.Go(func() {
				for ctx.Err() == nil {
					c.Me(ctx)
				}
			})
		}
		wg.Wait()
		for _, q := range s.Requests() {
			sent++
			if q.Status == 429 {
				limited++
				if q.At > 200*time.Millisecond {
					late++
				}
			}
		}
	})
	return sent, limited, late
}

// tightest is the smallest limit, of any window.
func tightest(limits []circlecitest.RateLimit) int {
	n := limits[0].Limit
	for _, l := range limits {
		n = min(n, l.Limit)
		for _, c := range l.Changes {
			n = min(n, c.Limit)
		}
	}
	return n
}

// allowance is how many requests the tightest limit allows in the run.
func allowance(limits []circlecitest.RateLimit, run time.Duration) float64 {
	best := -1.0
	for _, l := range limits {
		rate := float64(l.Limit) / l.Window.D().Seconds()
		for _, c := range l.Changes { // the share of the run at each limit
			rate = min(rate, float64(c.Limit)/l.Window.D().Seconds()) // the lowest, to be safe
		}
		if best < 0 || rate*run.Seconds() < best {
			best = rate * run.Seconds()
		}
	}
	return best
}
