package circleci

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the request budget a Client shares among its users.
const (
	// DefaultConns is the connections kept open to the API, and the
	// requests sent at once.
	DefaultConns = 50
	// DefaultRate is the most requests a second when the API announces no
	// rate limit: under the 151 a second CircleCI has been seen to
	// announce, and well above what 50 waits need in their densest polling
	// (one request each every 2.5s: 20 a second).
	DefaultRate = 150.0
)

// budget keeps every request of a Client under the rate limits the API
// announces, before any 429. It follows each family of headers on its own
// (RateLimit-*, X-RateLimit-*, X-RateLimit-*-Second, …; when several come
// at once, each holds, so the lowest does) and needs neither the windows'
// alignment nor the rounding of their Reset:
//
//   - Its own requests: at most the limit in any stretch of one window
//     plus the longest round trip seen, so that however the server's fixed
//     windows fall and however late a request arrives, no window counts
//     more of them than the limit.
//   - What others spend of a shared token: the Remaining of the answer to
//     the newest request (answers overtake each other: an older request's
//     Remaining is not news), less the requests sent since and those sent
//     before it and not yet answered. Once that is used up, requests wait
//     until that window has surely ended: its Reset after the answer (plus
//     a second, until the answers show that Reset's whole seconds are
//     rounded up), or one window after the answer where the window's
//     length is known.
//
// Until an answer announces a limit (or when none does), DefaultRate (or
// Client.Rate) requests a second apply the same way.
type budget struct {
	mu     sync.Mutex
	seq    uint64              // requests admitted so far, each numbered
	open   map[uint64]struct{} // requests sent and not yet answered
	sent   []time.Time         // when own requests were sent, oldest first, while a window may count them
	limits []*familyLimit      // one per family of headers announced
	rtt    time.Duration       // the longest round trip seen
}

// ticket is an admitted request: its number and when it was sent.
type ticket struct {
	seq uint64
	at  time.Time
}

// familyLimit is what one family of headers announced.
type familyLimit struct {
	family    string
	max       int           // requests per window
	window    time.Duration // its length: the family's unit, a w= parameter, or the longest Reset seen (and a second, unless rounded up)
	known     bool          // window is the family's own, not a guess
	longest   time.Duration // the longest Reset seen
	remaining int           // what was left when request seq was counted
	seq       uint64        // the newest request whose answer told
	ends      time.Time     // the window that counted request seq has ended by then
	rounding
}

// rounding learns how Reset's whole seconds are rounded: until it is
// known, a window may end a second after its Reset says. A Reset of 0 is
// rounded down (rounded up, it would be a window that ends at once). Else
// it is told when a new window shows (the answer to a newer request has
// far more left than the last): the old window ended after the last one
// was sent and before the new one was answered, which one rounding of the
// old window's Resets cannot explain.
type rounding struct {
	down, up bool      // the rounding, once known
	told     int       // the Remaining of the answer to request seq
	sent     time.Time // when request seq was sent
	// Over the answers of the window of request seq: the latest its end
	// can be, were Reset rounded up (min of answer + Reset), and the
	// earliest, were it rounded down (max of sent + Reset).
	upBound, downBound time.Time
}

// margin is how long after its Reset says a window may end.
func (r *rounding) margin() time.Duration {
	if r.up {
		return 0
	}
	return time.Second
}

// learn takes the answer (at now) to a request sent at sent, newer than any
// answered so far, that told remaining and reset; inflight requests were
// unanswered.
func (r *rounding) learn(sent, now time.Time, remaining int, reset time.Duration, inflight int, sameLimit bool) {
	if r.up || r.down || reset < 0 {
		return
	}
	if reset == 0 {
		r.down = true
		return
	}
	up, down := now.Add(reset), sent.Add(reset)
	// More left than the requests sent in between and those unanswered
	// can explain: a new window, that began after r.sent and before now.
	if !r.sent.IsZero() && sameLimit && remaining > r.told+inflight {
		switch {
		case r.downBound.After(now):
			r.up = true // rounded down, the old window would have ended after now
		case !r.upBound.After(r.sent):
			r.down = true // rounded up, it would have ended before r.sent
		}
		r.upBound, r.downBound = time.Time{}, time.Time{}
	}
	if r.upBound.IsZero() || up.Before(r.upBound) {
		r.upBound = up
	}
	if down.After(r.downBound) {
		r.downBound = down
	}
	r.told, r.sent = remaining, sent
}

// take waits until a request may be sent, and admits it.
func (c *Client) take(ctx context.Context) (ticket, error) {
	b := &c.budget
	b.mu.Lock()
	for {
		now := c.now()
		wait := b.wait(now, c.defaultLimit())
		if wait <= 0 {
			break
		}
		b.mu.Unlock()
		if left, ok := left(ctx); ok && wait > left {
			wait = max(left, 0)
		}
		if err := c.sleep(ctx, max(wait, time.Millisecond)); err != nil {
			return ticket{}, err
		}
		b.mu.Lock()
		if left, ok := left(ctx); ok && left <= 0 {
			break // do() tells the deadline passed
		}
	}
	t := b.admit(c.now())
	b.mu.Unlock()
	return t, nil
}

// admit numbers a request sent now; b.mu is held.
func (b *budget) admit(now time.Time) ticket {
	b.seq++
	if b.open == nil {
		b.open = map[uint64]struct{}{}
	}
	b.open[b.seq] = struct{}{}
	b.sent = append(b.sent, now)
	return ticket{b.seq, now}
}

// wait is how long a request must wait before it may be sent; b.mu is
// held. def is the limit that applies while none is announced.
func (b *budget) wait(now time.Time, def familyLimit) time.Duration {
	limits := b.limits
	if len(limits) == 0 {
		limits = []*familyLimit{&def}
	}
	slack := b.rtt + 10*time.Millisecond
	horizon := time.Duration(0)
	for _, l := range limits {
		horizon = max(horizon, l.window+slack)
	}
	i := 0
	for i < len(b.sent) && now.Sub(b.sent[i]) >= horizon {
		i++
	}
	b.sent = b.sent[i:]
	wait := time.Duration(0)
	for _, l := range limits {
		// Own requests within a window and a round trip of now.
		if n := len(b.sent); n >= l.max {
			oldest := b.sent[n-l.max] // the l.max-th newest
			wait = max(wait, oldest.Add(l.window+slack).Sub(now))
		}
		// What the window the newest answer told of has left.
		if now.Before(l.ends) && b.seq-l.seq >= uint64(max(l.remaining, 0)) {
			wait = max(wait, l.ends.Sub(now))
		}
	}
	return wait
}

// defaultLimit is the limit that applies while none is announced.
func (c *Client) defaultLimit() familyLimit {
	rate := c.Rate
	if rate <= 0 {
		rate = DefaultRate
	}
	n := max(1, int(math.Ceil(rate)))
	return familyLimit{max: n, window: time.Duration(float64(n) / rate * float64(time.Second)), known: true}
}

// done records the answer to the request of t (h nil: no answer).
func (c *Client) done(t ticket, h http.Header) {
	b := &c.budget
	now := c.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.open, t.seq)
	if h == nil {
		return
	}
	older := 0 // sent before t and still unanswered: perhaps counted after it
	for seq := range b.open {
		if seq < t.seq {
			older++
		}
	}
	b.rtt = max(b.rtt, min(now.Sub(t.at), 5*time.Second))
	for _, a := range announced(h) {
		l := b.family(a.family)
		sameLimit := l.max == a.limit
		l.max = a.limit // the limit may change mid-run: the newest word holds
		if t.seq <= l.seq {
			continue // overtaken: a newer request's answer came first
		}
		l.learn(t.at, now, a.remaining, a.reset, len(b.open), sameLimit) // those sent since are unanswered: t is the newest answered
		l.longest = max(l.longest, a.reset)
		switch {
		case a.window > 0:
			l.window, l.known = a.window, true
		case !l.known && l.longest > 0:
			l.window = l.longest + l.margin()
		}
		ends := now.Add(max(a.reset, 0) + l.margin()) // Reset is whole seconds
		if a.reset < 0 {
			ends = now.Add(l.window)
		}
		if l.known {
			ends = minTime(ends, now.Add(l.window))
		}
		l.remaining, l.seq, l.ends = a.remaining-older, t.seq, ends
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// family is the limit of one family of headers, added when first seen.
func (b *budget) family(name string) *familyLimit {
	for _, l := range b.limits {
		if l.family == name {
			return l
		}
	}
	l := &familyLimit{family: name, window: time.Second}
	b.limits = append(b.limits, l)
	return l
}

func (c *Client) conns() int {
	if c.Conns > 0 {
		return c.Conns
	}
	return DefaultConns
}

// announcement is what one family of rate-limit headers says.
type announcement struct {
	family           string
	limit, remaining int
	reset            time.Duration // until the window ends, in whole seconds; -1: not said
	window           time.Duration // the window's length; 0: not said
}

// announced reads the rate-limit headers of an answer, each family on its
// own: RateLimit-Limit/-Remaining/-Reset (a "100;w=60" value gives the
// window), X-RateLimit-Limit/-Remaining/-Reset as CircleCI sent them, and
// X-RateLimit-Limit-<Second|Minute|Hour|Day> with X-RateLimit-Remaining(-<unit>)
// and X-RateLimit-Reset, whose unit is the window.
func announced(h http.Header) []announcement {
	if h == nil {
		return nil
	}
	var out []announcement
	if a, ok := family(h, "RateLimit", "RateLimit-Limit", []string{"RateLimit-Remaining"}, "RateLimit-Reset", 0); ok {
		out = append(out, a)
	}
	for _, u := range []struct {
		suffix string
		window time.Duration
	}{{"", 0}, {"-Second", time.Second}, {"-Minute", time.Minute}, {"-Hour", time.Hour}, {"-Day", 24 * time.Hour}} {
		remaining := []string{"X-RateLimit-Remaining" + u.suffix, "X-RateLimit-Remaining"}
		if a, ok := family(h, "X-RateLimit"+u.suffix, "X-RateLimit-Limit"+u.suffix, remaining, "X-RateLimit-Reset", u.window); ok {
			out = append(out, a)
		}
	}
	return out
}

// family reads one family of headers: its limit, the first of remaining
// that is set (else the whole limit), and its reset.
func family(h http.Header, name, limit string, remaining []string, reset string, window time.Duration) (announcement, bool) {
	v := h.Get(limit)
	l, ok := headerNumber(v)
	if !ok || l == 0 {
		return announcement{}, false
	}
	a := announcement{family: name, limit: l, remaining: l, reset: -1, window: window}
	if _, w, found := strings.Cut(v, ";w="); found && window == 0 {
		if s, ok := headerNumber(w); ok && s > 0 {
			a.window = time.Duration(s) * time.Second
		}
	}
	for _, r := range remaining {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Get(r))); err == nil {
			a.remaining = max(n, 0) // a limit lowered mid-window may leave less than nothing
			break
		}
	}
	if s, ok := headerNumber(h.Get(reset)); ok {
		a.reset = time.Duration(s) * time.Second
	}
	return a, true
}

// headerNumber reads a non-negative whole number from a header value such
// as "100", "100, 100;w=60" or "7;w=1".
func headerNumber(v string) (int, bool) {
	v, _, _ = strings.Cut(strings.TrimSpace(v), ",")
	v, _, _ = strings.Cut(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil && n >= 0
}
