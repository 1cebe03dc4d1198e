package circleci

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The rate-limit headers of both families, and the lower limit when they
// differ.
func TestAnnounced(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		name             string
		h                http.Header
		limit, remaining int
		reset            time.Duration
		ok               bool
	}{
		{"none", h(), 0, 0, 0, false},
		{"nil", nil, 0, 0, 0, false},
		{"RateLimit-*", h("RateLimit-Limit", "100", "RateLimit-Remaining", "40", "RateLimit-Reset", "30"), 100, 40, 30 * time.Second, true},
		{"structured values", h("RateLimit-Limit", "100, 100;w=60", "RateLimit-Remaining", "7", "RateLimit-Reset", "5"), 100, 7, 5 * time.Second, true},
		{"X-RateLimit-* as CircleCI sent it", h("X-RateLimit-Limit", "151", "X-RateLimit-Remaining", "150", "X-RateLimit-Reset", "0"), 151, 150, time.Second, true},
		{"per-minute family", h("X-RateLimit-Limit-Minute", "600", "X-RateLimit-Remaining-Minute", "599"), 600, 599, time.Minute, true},
		{"both, the lower wins", h("RateLimit-Limit", "100", "RateLimit-Remaining", "90", "RateLimit-Reset", "10",
			"X-RateLimit-Limit", "50", "X-RateLimit-Remaining", "20", "X-RateLimit-Reset", "20"), 50, 20, 20 * time.Second, true},
		{"garbage", h("RateLimit-Limit", "many", "X-RateLimit-Limit", "-3"), 0, 0, 0, false},
	} {
		limit, remaining, reset, ok := announced(tc.h, now)
		if ok != tc.ok || (ok && (limit != tc.limit || remaining != tc.remaining || reset.Sub(now) != tc.reset)) {
			t.Errorf("%s: announced = %d, %d, %s, %v; want %d, %d, %s, %v", tc.name, limit, remaining, reset.Sub(now), ok, tc.limit, tc.remaining, tc.reset, tc.ok)
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
