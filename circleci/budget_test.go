package circleci

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Each family of rate-limit headers, on its own.
func TestAnnounced(t *testing.T) {
	t.Parallel()
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	type a = announcement
	const s = time.Second
	for _, tc := range []struct {
		name string
		h    http.Header
		want []announcement
	}{
		{"none", h(), nil},
		{"nil", nil, nil},
		{"RateLimit-*", h("RateLimit-Limit", "100", "RateLimit-Remaining", "40", "RateLimit-Reset", "30"), []a{{"RateLimit", 100, 40, 30 * s, 0}}},
		{"structured values", h("RateLimit-Limit", "100, 100;w=60", "RateLimit-Remaining", "7", "RateLimit-Reset", "5"), []a{{"RateLimit", 100, 7, 5 * s, time.Minute}}},
		{"X-RateLimit-* as CircleCI sent it", h("X-RateLimit-Limit", "151", "X-RateLimit-Remaining", "150", "X-RateLimit-Reset", "0"), []a{{"X-RateLimit", 151, 150, 0, 0}}},
		{"per-minute family", h("X-RateLimit-Limit-Minute", "600", "X-RateLimit-Remaining-Minute", "599"), []a{{"X-RateLimit-Minute", 600, 599, -1, time.Minute}}},
		{"per-second family, as CircleCI documents it", h("X-RateLimit-Limit-Second", "10", "X-RateLimit-Remaining", "3", "X-RateLimit-Reset", "1"), []a{{"X-RateLimit-Second", 10, 3, s, s}}},
		{"both", h("RateLimit-Limit", "100", "RateLimit-Remaining", "90", "RateLimit-Reset", "10",
			"X-RateLimit-Limit-Second", "5", "X-RateLimit-Remaining", "2", "X-RateLimit-Reset", "0"),
			[]a{{"RateLimit", 100, 90, 10 * s, 0}, {"X-RateLimit-Second", 5, 2, 0, s}}},
		{"no remaining: the whole limit", h("RateLimit-Limit", "9"), []a{{"RateLimit", 9, 9, -1, 0}}},
		{"garbage", h("RateLimit-Limit", "many", "X-RateLimit-Limit", "-3"), nil},
	} {
		if got := announced(tc.h); !slices.Equal(got, tc.want) {
			t.Errorf("%s: announced = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// Once an answer announces that the window is used up, the next request
// waits for the window's reset instead of drawing a 429.
func TestBudgetWaitsForTheWindow(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var c *Client
	var sent []time.Time
	used := 0
	c = newClient(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		now := c.now()
		if len(sent) == 0 || now.Sub(sent[0]) >= 10*time.Second {
			sent, used = nil, 0 // a new window of 10s
		}
		sent = append(sent, now)
		used++
		if used > 3 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("RateLimit-Limit", "3")
		w.Header().Set("RateLimit-Remaining", strconv.Itoa(3-used))
		w.Header().Set("RateLimit-Reset", "10")
		fmt.Fprint(w, `{"login":"me"}`)
	})
	start := c.now()
	for i := range 7 {
		if _, err := c.Me(context.Background()); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if waited := c.now().Sub(start); waited < 20*time.Second {
		t.Errorf("7 requests at 3 per 10s took %s, want two windows' wait", waited)
	}
}

// How Reset is rounded is learned: a Reset of 0 is rounded down; rounded
// up shows when a new window begins before the old one could have ended,
// were Reset rounded down. Until then a window may end a second late.
func TestResetRounding(t *testing.T) {
	t.Parallel()
	at := func(s float64) time.Time { return time.Unix(1000, 0).Add(time.Duration(s * float64(time.Second))) }
	// 20 a window of 2s that ends at 10s; each answer 0.1s after its request.
	var up rounding
	up.learn(at(8.5), at(8.6), 15, 2*time.Second, 0, true) // counted at 8.55: 1.45s left, rounded up
	up.learn(at(9.9), at(10.0), 0, 1*time.Second, 0, true) // counted at 9.95
	if up.up || up.down || up.margin() != time.Second {
		t.Fatalf("before a new window: %+v", up)
	}
	up.learn(at(10.1), at(10.2), 19, 2*time.Second, 3, true) // a new window
	if !up.up || up.margin() != 0 {
		t.Errorf("rounded up: %+v", up)
	}
	var down rounding
	down.learn(at(9.9), at(10.0), 0, 0, 0, true)
	if !down.down || down.margin() != time.Second {
		t.Errorf("a Reset of 0: %+v", down)
	}
	// More left, but no more than the requests in flight explain: no news.
	var unsure rounding
	unsure.learn(at(9.9), at(10.0), 2, 1*time.Second, 0, true)
	unsure.learn(at(10.1), at(10.2), 9, 2*time.Second, 8, true)
	if unsure.up || unsure.down {
		t.Errorf("a jump within what is in flight: %+v", unsure)
	}
}
