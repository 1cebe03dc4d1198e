package circleci

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the request budget a Client shares among its users.
const (
	// DefaultConns is the connections kept open to the API, and the
	// requests sent at once before the API announced a rate limit.
	DefaultConns = 50
	// DefaultRate is the sustained request rate when the API announces no
	// rate limit: gentle, as CircleCI asks of pollers.
	DefaultRate = 10.0
)

// budget keeps every request of a Client under the API's announced rate
// limit, before any 429: it follows RateLimit-* and X-RateLimit-* (the
// lower limit when both are announced and differ), spending what the
// window has left and waiting for its reset when that is used up. Until
// an answer announces a limit (or when none does), a token bucket of
// DefaultRate with a burst of the client's connections applies: a fan-out
// sends its first Conns requests at once, which a limit of fewer than
// Conns per window would answer with 429s (the shared pause then applies).
type budget struct {
	mu        sync.Mutex
	announced bool
	remaining int       // requests the window has left, as far as we know
	limit     int       // the announced limit per window
	reset     time.Time // when the window ends
	inflight  int
	lastSeen  int // the Remaining of the last answer
	// without an announced limit
	tokens float64
	filled time.Time
}

// take waits until a request may be sent.
func (c *Client) take(ctx context.Context) error {
	b := &c.budget
	b.mu.Lock()
	for {
		now := c.now()
		var wait time.Duration
		if b.announced {
			if !b.reset.IsZero() && !now.Before(b.reset) {
				b.remaining, b.reset = b.limit, time.Time{}
			}
			if b.remaining > 0 {
				b.remaining--
				break
			}
			wait = b.reset.Sub(now)
			if b.reset.IsZero() {
				wait = time.Second // an answer in flight will tell
			}
		} else {
			burst := float64(c.conns())
			rate := c.Rate
			if rate <= 0 {
				rate = DefaultRate
			}
			if b.filled.IsZero() {
				b.tokens, b.filled = burst, now
			}
			b.tokens = min(burst, b.tokens+now.Sub(b.filled).Seconds()*rate)
			b.filled = now
			if b.tokens >= 1 {
				b.tokens--
				break
			}
			wait = time.Duration((1 - b.tokens) / rate * float64(time.Second))
		}
		b.mu.Unlock()
		if left, ok := left(ctx); ok && wait > left {
			wait = max(left, 0)
		}
		if err := c.sleep(ctx, max(wait, time.Millisecond)); err != nil {
			return err
		}
		if left, ok := left(ctx); ok && left <= 0 {
			b.mu.Lock()
			b.inflight++
			b.mu.Unlock()
			return nil // do() tells the deadline passed
		}
		b.mu.Lock()
	}
	b.inflight++
	b.mu.Unlock()
	return nil
}

// done records an answer's announcement (h nil: no answer).
func (c *Client) done(h http.Header) {
	b := &c.budget
	now := c.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight--
	limit, remaining, reset, ok := announced(h, now)
	if !ok {
		return
	}
	others := b.inflight // sent after this one was counted, perhaps
	last := b.lastSeen
	b.lastSeen = remaining
	switch {
	case !b.announced, reset.After(b.reset.Add(time.Second)), limit != b.limit,
		remaining > last+others && !now.Before(b.reset.Add(-time.Second)):
		// A new window (or the first news of one). Within one, what the
		// server has left only shrinks, but an answer may overtake others
		// and show more: a count that rises is a new window only near the
		// current one's end (the Reset headers have whole seconds).
		b.announced, b.limit, b.reset = true, limit, reset
		b.remaining = remaining - others
	default:
		b.remaining = min(b.remaining, remaining-others)
		if reset.After(b.reset) {
			b.reset = reset
		}
	}
}

func (c *Client) conns() int {
	if c.Conns > 0 {
		return c.Conns
	}
	return DefaultConns
}

// announced reads the rate-limit headers of an answer: the lower of the
// RateLimit-* and X-RateLimit-* limits (CircleCI documents both), what is left of
// it, and when its window ends.
func announced(h http.Header, now time.Time) (limit, remaining int, reset time.Time, ok bool) {
	if h == nil {
		return 0, 0, time.Time{}, false
	}
	num := func(v string) (int, bool) {
		v, _, _ = strings.Cut(strings.TrimSpace(v), ",") // "100, 100;w=60"
		v, _, _ = strings.Cut(v, ";")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil && n >= 0
	}
	type family struct {
		limit, remaining int
		reset            time.Duration
	}
	var fams []family
	if l, ok := num(h.Get("RateLimit-Limit")); ok {
		f := family{limit: l, remaining: l}
		if r, ok := num(h.Get("RateLimit-Remaining")); ok {
			f.remaining = r
		}
		if s, ok := num(h.Get("RateLimit-Reset")); ok {
			f.reset = time.Duration(s) * time.Second
		}
		fams = append(fams, f)
	}
	units := []struct {
		suffix string
		window time.Duration
	}{{"", 0}, {"-Second", time.Second}, {"-Minute", time.Minute}, {"-Hour", time.Hour}, {"-Day", 24 * time.Hour}}
	for _, u := range units {
		l, ok := num(h.Get("X-RateLimit-Limit" + u.suffix))
		if !ok {
			continue
		}
		f := family{limit: l, remaining: l, reset: u.window}
		if r, ok := num(h.Get("X-RateLimit-Remaining" + u.suffix)); ok {
			f.remaining = r
		} else if r, ok := num(h.Get("X-RateLimit-Remaining")); ok {
			f.remaining = r
		}
		if s, ok := num(h.Get("X-RateLimit-Reset")); ok {
			f.reset = time.Duration(s) * time.Second
		}
		fams = append(fams, f)
	}
	if len(fams) == 0 {
		return 0, 0, time.Time{}, false
	}
	best := fams[0]
	for _, f := range fams[1:] {
		switch {
		case f.limit < best.limit:
			best = f
		case f.limit == best.limit:
			best.remaining = min(best.remaining, f.remaining)
			best.reset = max(best.reset, f.reset)
		}
	}
	// A window that ends "now" (Reset: 0) still ends after this answer.
	return best.limit, best.remaining, now.Add(max(best.reset, time.Second)), true
}
