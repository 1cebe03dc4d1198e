// Package circleci is a small client for the parts of CircleCI's API v2 that
// trigger pipelines and follow their workflows. It sends the token only in
// the Circle-Token header, caps what it reads, parses answers defensively
// with gjson, and shares one rate-limit pause among all its users: after a
// 429, every request made through the same Client waits for Retry-After.
package circleci

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
)

// Defaults for a Client's zero fields.
const (
	DefaultBaseURL        = "https://circleci.com/api/v2"
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxBody        = 4 << 20 // workflow and job pages are a few KiB
	defaultRetryAfter     = 10 * time.Second
	maxRetryAfter         = 5 * time.Minute
	maxPages              = 100
)

// Client calls the API. Its zero fields take the defaults above; it is safe
// for concurrent use once its fields are set.
type Client struct {
	BaseURL   string            // e.g. "https://circleci.com/api/v2"
	Token     string            // sent as Circle-Token; never logged, never in errors
	Transport http.RoundTripper // nil: http.DefaultTransport
	Timeout   time.Duration     // per request; 0: DefaultRequestTimeout
	UserAgent string
	MaxBody   int64
	Clock     Clock // nil: SystemClock; tests inject a fake one
	// Conns bounds the connections to the API (with the default
	// Transport) and the requests sent at once before the API announced
	// its rate limit; 0: DefaultConns.
	Conns int
	// Rate is the requests per second when the API announces no rate
	// limit; 0: DefaultRate. An announced limit always applies.
	Rate float64

	once sync.Once
	http *http.Client

	mu          sync.Mutex
	pausedUntil time.Time     // shared rate-limit pause, set by 429s
	offset      time.Duration // the server's clock minus ours, from Date headers
	offsetKnown bool

	budget budget // shared by every request: under the announced rate limit
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Method, Path string
	Code         int
	Message      string        // CircleCI's message, "" if the body had none
	RetryAfter   time.Duration // from Retry-After on 429 and 503, else 0
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Code, http.StatusText(e.Code))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// NetError is a request that got no answer. Sent tells whether the request
// had been written when it failed: if not, it certainly had no effect.
// Permanent tells that sending it again cannot help: the host does not
// exist, or its certificate is not trusted.
type NetError struct {
	Method, Path string
	Sent         bool
	Permanent    bool
	Err          error
}

func (e *NetError) Error() string { return fmt.Sprintf("%s %s: %v", e.Method, e.Path, e.Err) }
func (e *NetError) Unwrap() error { return e.Err }

// DecodeError is a 2xx answer that could not be read.
type DecodeError struct {
	Method, Path string
	Err          error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s %s: unreadable answer: %v", e.Method, e.Path, e.Err)
}
func (e *DecodeError) Unwrap() error { return e.Err }

// Transient reports whether err may go away if the same request is sent
// again later: rate limits, server errors, network errors and unreadable
// answers. Other 4xx answers are permanent.
func Transient(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusTooManyRequests || se.Code >= 500
	}
	var ne *NetError
	if errors.As(err, &ne) {
		return !ne.Permanent
	}
	var de *DecodeError
	return errors.As(err, &de)
}

// PauseError is a rate limit that asks to wait longer than the time left
// before the caller's deadline: the request was not sent.
type PauseError struct {
	Method, Path string
	Pause, Left  time.Duration
}

func (e *PauseError) Error() string {
	return fmt.Sprintf("%s %s: not sent: CircleCI's rate limit (429) asks to wait %s, more than the %s left before the timeout",
		e.Method, e.Path, e.Pause.Round(time.Second), e.Left.Round(time.Second))
}

// WithDeadline bounds every request made with the returned context, and
// every rate-limit pause before one, by a deadline on the client's clock:
// a request gets at most the time left, and a pause that would outlast
// the deadline fails at once with a *PauseError. (A deadline of ctx itself,
// on the real clock, bounds requests too.)
func WithDeadline(ctx context.Context, deadline time.Time) context.Context {
	if d, ok := ctx.Value(deadlineKey{}).(time.Time); ok && d.Before(deadline) {
		return ctx
	}
	return context.WithValue(ctx, deadlineKey{}, deadline)
}

type deadlineKey struct{}

// Urgent returns a context whose requests do not wait for a rate-limit
// pause: for the few that must go out on the way out, such as cancels.
func Urgent(ctx context.Context) context.Context { return context.WithValue(ctx, urgentKey{}, true) }

type urgentKey struct{}

// left is the time left before ctx's deadlines, and whether there is one.
func (c *Client) left(ctx context.Context) (time.Duration, bool) {
	left, ok := time.Duration(math.MaxInt64), false
	if d, has := ctx.Value(deadlineKey{}).(time.Time); has {
		left, ok = d.Sub(c.Now()), true
	}
	if d, has := ctx.Deadline(); has {
		left, ok = min(left, time.Until(d)), true
	}
	return left, ok
}

func (c *Client) init() {
	c.once.Do(func() {
		timeout := c.Timeout
		if timeout == 0 {
			timeout = DefaultRequestTimeout
		}
		tr := c.Transport
		if tr == nil {
			tr = NewTransport(c.conns())
		}
		c.http = &http.Client{
			Transport:     tr,
			Timeout:       timeout,
			CheckRedirect: sameHostRedirect,
		}
	})
}

// NewTransport is http.DefaultTransport with a connection pool for conns
// requests at once to one host: it keeps that many idle connections (the
// default keeps 2, and a fan-out would open a new one for most requests)
// and opens no more than that.
func NewTransport(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = conns
	t.MaxConnsPerHost = conns
	t.MaxIdleConns = max(t.MaxIdleConns, conns)
	return t
}

// sameHostRedirect follows redirects only on the same scheme and host:
// the Circle-Token header, unlike Authorization, would otherwise be sent
// along to wherever the redirect points.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	first := via[0].URL
	if req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
		return &RedirectError{From: first.Host, To: req.URL.Scheme + "://" + req.URL.Host}
	}
	return nil
}

// RedirectError is a redirect to another host, refused: the request is
// not sent there, and sending it again would be refused again.
type RedirectError struct{ From, To string }

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refusing to follow a redirect to %s (the token stays with %s)", e.To, e.From)
}

// Clock tells the time and sleeps. Tests inject a fake one, so that a
// 30-minute wait runs in milliseconds.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx ends and returns its error.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) clock() Clock {
	if c.Clock == nil {
		return SystemClock
	}
	return c.Clock
}

// Now is the time on the client's clock, which its users share.
func (c *Client) Now() time.Time { return c.clock().Now() }

// Sleep waits on the client's clock for d, or until ctx ends.
func (c *Client) Sleep(ctx context.Context, d time.Duration) error { return c.clock().Sleep(ctx, d) }

// Pause makes every request through c wait until d from now has passed.
func (c *Client) Pause(d time.Duration) {
	until := c.Now().Add(d)
	c.mu.Lock()
	if until.After(c.pausedUntil) {
		c.pausedUntil = until
	}
	c.mu.Unlock()
}

// PausedFor tells how long requests must still wait after a 429.
func (c *Client) PausedFor() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.pausedUntil.Sub(c.Now()), 0)
}

// Do sends one request and returns the answer's body for a 2xx status.
// body, if not nil, is sent as JSON. Non-2xx answers are *StatusError,
// failures to get an answer *NetError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any) (int, []byte, error) {
	code, data, err := c.do(ctx, method, path, query, body)
	return code, data, c.redact(err)
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any) (int, []byte, error) {
	c.init()
	if d := c.PausedFor(); d > 0 && ctx.Value(urgentKey{}) == nil {
		if left, ok := c.left(ctx); ok && d > left {
			return 0, nil, &PauseError{Method: method, Path: path, Pause: d, Left: max(left, 0)}
		}
		if err := c.Sleep(ctx, d); err != nil {
			return 0, nil, err
		}
	}
	if ctx.Value(urgentKey{}) == nil {
		if err := c.take(ctx); err != nil {
			return 0, nil, err
		}
	} else {
		c.budget.mu.Lock()
		c.budget.inflight++
		c.budget.mu.Unlock()
	}
	var answer http.Header
	defer func() { c.done(answer) }()
	parent := ctx
	if left, ok := c.left(ctx); ok {
		if left <= 0 {
			return 0, nil, fmt.Errorf("%s %s: not sent: %w", method, path, context.DeadlineExceeded)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, left)
		defer cancel()
	}
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u := strings.TrimRight(base, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	var sent bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { sent = true },
	})
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Circle-Token", c.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var re *RedirectError
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil:
			// The time left ran out, not the caller's patience.
			return 0, nil, &NetError{Method: method, Path: path, Sent: sent, Err: errors.New("no answer before the timeout")}
		case ctx.Err() != nil:
			return 0, nil, ctx.Err()
		case errors.As(err, &re):
			return 0, nil, fmt.Errorf("%s %s: %w", method, path, re)
		}
		err, permanent := scrub(err, u)
		return 0, nil, &NetError{Method: method, Path: path, Sent: sent, Permanent: permanent, Err: err}
	}
	defer resp.Body.Close()
	answer = resp.Header
	c.learnOffset(resp.Header.Get("Date"))
	limit := c.MaxBody
	if limit == 0 {
		limit = DefaultMaxBody
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		err, _ := scrub(err, u)
		return 0, nil, &NetError{Method: method, Path: path, Sent: true, Err: fmt.Errorf("reading the answer: %w", err)}
	}
	if int64(len(data)) > limit {
		if resp.StatusCode/100 == 2 {
			return 0, nil, &DecodeError{Method: method, Path: path, Err: fmt.Errorf("answer larger than %d bytes", limit)}
		}
		data = data[:limit]
	}
	if resp.StatusCode/100 != 2 {
		se := &StatusError{Method: method, Path: path, Code: resp.StatusCode, Message: ParseMessage(data)}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			se.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.Now())
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			d := se.RetryAfter
			if d == 0 {
				d = defaultRetryAfter
			}
			c.Pause(d)
		}
		return resp.StatusCode, nil, se
	}
	return resp.StatusCode, data, nil
}

// scrub keeps the request URL out of a transport error: net/http puts it in
// *url.Error, and a URL must never carry anything secret, but a path full
// of escapes makes the message hard to read for no gain. It also tells
// errors that sending again cannot mend: an unknown host, an untrusted
// certificate.
func scrub(err error, u string) (error, bool) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Errorf("no such host %s: check the host", dns.Name), true
	case errors.As(err, &cert), errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid):
		return fmt.Errorf("%w: check the host (a CircleCI server with a private CA needs its certificate in the system's trust store, or in SSL_CERT_FILE)", err), true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("cannot connect: %w", op.Err), false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("connection closed before a complete answer"), false
	}
	return err, false
}

// learnOffset keeps how far the server's clock is from the client's, from
// an answer's Date header (whole seconds).
func (c *Client) learnOffset(date string) {
	t, err := http.ParseTime(date)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.offset, c.offsetKnown = t.Sub(c.Now()), true
	c.mu.Unlock()
}

// ServerTime is t on the server's clock, as far as the Date headers of its
// answers tell (to about a second); t itself before any answer had one.
func (c *Client) ServerTime(t time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return t.Add(c.offset), c.offsetKnown
}

// redact removes the token from an error's text, which may quote what the
// server answered: a server can echo what it was sent. errors.As and
// errors.Is still see the original.
func (c *Client) redact(err error) error {
	if err == nil || c.Token == "" || !strings.Contains(err.Error(), c.Token) {
		return err
	}
	return &redacted{err: err, msg: strings.ReplaceAll(err.Error(), c.Token, "[token]")}
}

type redacted struct {
	err error
	msg string
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// parseRetryAfter reads seconds or an HTTP date; 0 if absent or unreadable.
// Hostile values are capped.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 || n != n {
			return 0
		}
		d = time.Duration(min(n, maxRetryAfter.Seconds()) * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// getJSON sends a GET and returns its body.
func (c *Client) get(ctx context.Context, path string, query url.Values) ([]byte, error) {
	_, body, err := c.Do(ctx, http.MethodGet, path, query, nil)
	return body, err
}

// getAs sends a GET and reads its answer with parse: one it cannot read is
// a *DecodeError, the token redacted.
func getAs[T any](ctx context.Context, c *Client, path string, q url.Values, parse func([]byte) (T, error)) (T, error) {
	var zero T
	body, err := c.get(ctx, path, q)
	if err != nil {
		return zero, err
	}
	v, err := parse(body)
	if err != nil {
		return zero, c.redact(&DecodeError{Method: http.MethodGet, Path: path, Err: err})
	}
	return v, nil
}

// object reads a JSON object and the field at path of it; a field that is
// missing or empty is an error.
func object(field string) func([]byte) (gjson.Result, error) {
	return func(body []byte) (gjson.Result, error) {
		r, err := parseObject(body)
		if err == nil && field != "" && r.Get(field).String() == "" {
			err = fmt.Errorf("no %s", field)
		}
		return r, err
	}
}

// Pipeline reads GET /pipeline/{id}.
func (c *Client) Pipeline(ctx context.Context, id string) (Pipeline, error) {
	return getAs(ctx, c, "/pipeline/"+url.PathEscape(id), nil, ParsePipeline)
}

// Workflows reads every page of GET /pipeline/{id}/workflow.
func (c *Client) Workflows(ctx context.Context, pipelineID string) ([]Workflow, error) {
	wfs, _, err := list(ctx, c, "/pipeline/"+url.PathEscape(pipelineID)+"/workflow", maxPages, parseWorkflow, nil)
	return wfs, err
}

// Jobs reads every page of GET /workflow/{id}/job.
func (c *Client) Jobs(ctx context.Context, workflowID string) ([]Job, error) {
	jobs, _, err := list(ctx, c, "/workflow/"+url.PathEscape(workflowID)+"/job", maxPages, parseJob, nil)
	return jobs, err
}

// MyPipelines reads the pipelines the token's user triggered in a project,
// newest first, page after page until one holds a pipeline created before
// since (on the server's clock), or pages pages were read. complete tells
// whether every pipeline created since then was seen.
func (c *Client) MyPipelines(ctx context.Context, slug Slug, since time.Time, pages int) (ps []Pipeline, complete bool, err error) {
	return list(ctx, c, slug.Path()+"/pipeline/mine", pages, pipelineFrom, func(p Pipeline) bool {
		return !p.CreatedAt.IsZero() && p.CreatedAt.Before(since)
	})
}

// DynamicConfig reads GET /pipeline/{id}/config and reports whether the
// pipeline used dynamic config (its answer has a setup-config).
func (c *Client) DynamicConfig(ctx context.Context, pipelineID string) (bool, error) {
	r, err := getAs(ctx, c, "/pipeline/"+url.PathEscape(pipelineID)+"/config", nil, object(""))
	return r.Get("setup-config").String() != "", err
}

// CancelWorkflow sends POST /workflow/{id}/cancel.
func (c *Client) CancelWorkflow(ctx context.Context, id string) error {
	_, _, err := c.Do(ctx, http.MethodPost, "/workflow/"+url.PathEscape(id)+"/cancel", nil, nil)
	return err
}

// Me reads GET /me: the token's user.
func (c *Client) Me(ctx context.Context) (login string, err error) {
	r, err := getAs(ctx, c, "/me", nil, object("login"))
	return r.Get("login").String(), err
}

// list walks a paginated list, parsing each item, for at most limit pages,
// or until an item is done (the rest is older). complete tells whether it
// reached the end or a done item. An empty page ends the list whatever its
// next_page_token says; a list longer than maxPages, a repeated page token
// or items repeated across pages (a list that would never end) are errors.
func list[T any](ctx context.Context, c *Client, path string, limit int, parse func(gjson.Result) (T, error), done func(T) bool) ([]T, bool, error) {
	var out []T
	tokens, ids := map[string]bool{}, map[string]bool{}
	var q url.Values
	bad := func(err error) error { return c.redact(&DecodeError{Method: http.MethodGet, Path: path, Err: err}) }
	for range limit {
		body, err := c.get(ctx, path, q)
		if err != nil {
			return nil, false, err
		}
		p, err := parsePage(body)
		if err != nil {
			return nil, false, bad(err)
		}
		finished := p.Next == "" || len(p.Items) == 0
		for _, it := range p.Items {
			v, err := parse(it)
			if err != nil {
				return nil, false, bad(err)
			}
			// Items without an id (tests, artifacts) are not checked.
			id := it.Get("id").String()
			if id != "" && ids[id] {
				return nil, false, bad(fmt.Errorf("item %s listed twice", id))
			}
			ids[id] = true
			out = append(out, v)
			finished = finished || (done != nil && done(v))
		}
		if finished {
			return out, true, nil
		}
		if tokens[p.Next] {
			return nil, false, bad(errors.New("the same next_page_token came back twice"))
		}
		tokens[p.Next] = true
		q = url.Values{"page-token": {p.Next}}
	}
	if limit < maxPages {
		return out, false, nil
	}
	return nil, false, bad(fmt.Errorf("more than %d pages", maxPages))
}
