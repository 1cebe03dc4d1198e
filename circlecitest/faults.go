package circlecitest

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// fault returns the fault that applies to this request, counting hits.
func (s *Simulator) fault(method, p string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	since := s.clk.Now().Sub(s.start)
	for i := range s.sc.Faults {
		f := &s.sc.Faults[i]
		if (f.Method != "" && f.Method != method) || !f.re.MatchString(p) {
			continue
		}
		if since < f.From.D() || (f.Until > 0 && since >= f.Until.D()) {
			continue
		}
		s.hits[i]++
		n := s.hits[i] - f.Skip
		if n <= 0 || (f.Count > 0 && n > f.Count) {
			continue
		}
		return f
	}
	return nil
}

type faultKey struct{}

// faultOf is the fault applied to a request being handled, or nil.
func faultOf(r *http.Request) *Fault {
	f, _ := r.Context().Value(faultKey{}).(*Fault)
	return f
}

// sleep waits d on the simulator's clock.
func (s *Simulator) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	return s.clk.Sleep(ctx, d)
}

// hang waits d on the real clock, until the client gives up (an error) or
// the server is closed.
func (s *Simulator) hang(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.closed:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// limit counts a request against each rate limit and announces what is
// left in h; it reports how long until the window of a limit the request
// is over ends (0: under every limit).
func (s *Simulator) limit(h http.Header) time.Duration {
	if len(s.sc.RateLimits) == 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == nil {
		s.used, s.windows = make([]int, len(s.sc.RateLimits)), make([]int64, len(s.sc.RateLimits))
	}
	since := s.clk.Now().Sub(s.start)
	var over time.Duration
	for i, rl := range s.sc.RateLimits {
		win := rl.Window.D()
		w := int64(math.Floor(float64(since-rl.Offset.D()) / float64(win)))
		if w != s.windows[i] {
			s.windows[i], s.used[i] = w, 0
		}
		reset := rl.Offset.D() + time.Duration(w+1)*win - since
		limit := rl.Limit
		for _, c := range rl.Changes {
			if rl.Offset.D()+time.Duration(w)*win >= c.At.D() { // from the first window that starts after it
				limit = c.Limit
			}
		}
		if s.used[i] >= limit {
			over = max(over, reset)
		} else {
			s.used[i]++
		}
		secs := math.Ceil(reset.Seconds())
		if rl.Floor {
			secs = math.Floor(reset.Seconds())
		}
		set := func(prefix, limitKey string) {
			h.Set(prefix+limitKey, strconv.Itoa(limit))
			h.Set(prefix+"Remaining", strconv.Itoa(limit-s.used[i]))
			h.Set(prefix+"Reset", strconv.Itoa(int(secs)))
		}
		switch rl.Headers {
		case "both", "ratelimit":
			set("RateLimit-", "Limit")
		}
		switch rl.Headers {
		case "both", "x-ratelimit":
			set("X-RateLimit-", "Limit")
		case "x-ratelimit-unit":
			set("X-RateLimit-", "Limit-"+unitOf(win))
		}
	}
	return over
}

// mangles tells that f cuts, pads or lies about the length of an answer of
// n bytes.
func (f *Fault) mangles(n int) bool {
	return (f.Truncate > 0 && f.Truncate < n) || f.Size > n || (f.Length > 0 && f.Length != n)
}

// faultAnswer is the answer a fault with a Status gives.
func (s *Simulator) faultAnswer(f *Fault, token string) *answer {
	echo := func(v string) string {
		if f.EchoToken {
			return strings.ReplaceAll(v, "{token}", token)
		}
		return v
	}
	body, ct := echo(f.Body), f.ContentType
	if f.Body == "" {
		m := defaultMessage(f.Status)
		switch {
		case f.EchoToken && f.Status == 401:
			m = "Invalid token " + token + " provided."
		case f.EchoToken:
			m += " Token: " + token
		}
		ct, body = "application/json;charset=utf-8", mustJSON(msg(m))
	}
	if ct == "" {
		ct = "text/plain"
	}
	out := newAnswer()
	out.Header().Set("Content-Type", ct)
	if f.RetryAfter != "" {
		out.Header().Set("Retry-After", echo(f.RetryAfter))
	}
	for k, v := range f.Headers {
		out.Header().Set(k, echo(v))
	}
	out.WriteHeader(f.Status)
	io.WriteString(out, body)
	return out
}

// send writes an answer, with a Date header and mangled as f says.
func (s *Simulator) send(w http.ResponseWriter, out *answer, f *Fault) {
	h := w.Header()
	for k, v := range out.Header() {
		h[k] = v
	}
	h.Set("Date", s.date())
	body := out.Body.Bytes()
	if f.Truncate > 0 && f.Truncate < len(body) {
		body = body[:f.Truncate]
	}
	if f.Length > 0 {
		h.Set("Content-Length", strconv.Itoa(f.Length))
	}
	pad := max(f.Size-len(body), 0)
	w.WriteHeader(out.Code)
	w.Write(body)
	io.CopyN(w, spaces{}, int64(pad))
}

// answer is an answer held back before it is sent: the real one, to be
// replaced by a fault's or mangled, or a fault's.
type answer struct {
	header http.Header
	Code   int
	Body   bytes.Buffer
	served time.Time // the moment it describes; zero for a fault's
}

func newAnswer() *answer { return &answer{header: http.Header{}, Code: 200} }

func (a *answer) Header() http.Header         { return a.header }
func (a *answer) Write(b []byte) (int, error) { return a.Body.Write(b) }
func (a *answer) WriteHeader(code int)        { a.Code = code }

// spaces reads as endless spaces.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

// defaultMessage is CircleCI's message for a status (spec examples).
func defaultMessage(code int) string {
	switch code {
	case 401:
		return "Invalid token provided."
	case 403:
		return "Permission denied."
	case 404:
		return "Project not found"
	case 429:
		return "Rate limit exceeded."
	case 503:
		return "Service unavailable."
	}
	if code >= 500 {
		return "Internal server error."
	}
	return http.StatusText(code)
}
