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
	"sync/atomic"
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
	// Clock is the time of the client's pauses; trigger and wait keep time
	// on it too. nil: SystemClock. Tests and benchmarks inject a fake one,
	// so that a 30-minute wait runs in milliseconds; a deadline of a
	// request's context is on the real clock whatever Clock is.
	Clock Clock
	// Conns bounds the connections to the API, with the default
	// Transport; 0: DefaultConns.
	Conns int
	// Rate is the requests per second when the API announces no rate
	// limit; 0: DefaultRate. An announced limit always applies.
	Rate float64

	once sync.Once
	http *http.Client

	mu          sync.Mutex
	pausedUntil time.Time   // shared rate-limit pause, set by 429s
	first       time.Time   // when the first request was sent
	reached     atomic.Bool // an answer came from the host

	budget budget // shared by every request: under the announced rate limit
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Method, Path string
	Code         int
	Message      string // CircleCI's message, "" if the body had none
	// RetryAfter is Retry-After of a 429 or 503. After a 429 every request
	// through the client waits that long (10s when it is absent), and
	// RetryAfter says so.
	RetryAfter time.Duration
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

// left is the time left before ctx's deadline, and whether it has one.
func left(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Duration(math.MaxInt64), false
	}
	return time.Until(d), true
}

func (c *Client) init() {
	c.once.Do(func() {
		tr := c.Transport
		if tr == nil {
			tr = NewTransport(c.conns())
		}
		// Each request's time is bounded through its context (see bound).
		c.http = &http.Client{Transport: tr, CheckRedirect: sameHostRedirect}
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

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultRequestTimeout
}

func (c *Client) clock() Clock {
	if c.Clock == nil {
		return SystemClock
	}
	return c.Clock
}

func (c *Client) now() time.Time { return c.clock().Now() }

func (c *Client) sleep(ctx context.Context, d time.Duration) error { return c.clock().Sleep(ctx, d) }

// pause makes every request through c wait until d from now has passed.
func (c *Client) pause(d time.Duration) {
	until := c.now().Add(d)
	c.mu.Lock()
	if until.After(c.pausedUntil) {
		c.pausedUntil = until
	}
	c.mu.Unlock()
}

// pausedFor tells how long requests must still wait after a 429.
func (c *Client) pausedFor() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.pausedUntil.Sub(c.now()), 0)
}

// request is one call of the API. An urgent one (a cancel on the way
// out) waits neither for a rate-limit pause nor for the budget, though
// the budget counts it.
type request struct {
	method, path string
	query        url.Values
	body         any
	urgent       bool
}

// answer is a 2xx answer: its status, body, and the server's clock when it
// answered (its Date header; zero without one).
type answer struct {
	code int
	body []byte
	date time.Time
}

// Do sends one request and returns the answer's body for a 2xx status.
// body, if not nil, is sent as JSON. Non-2xx answers are *StatusError,
// failures to get an answer *NetError. A deadline of ctx bounds the
// request, and the rate-limit pause before it: a pause that would outlast
// it fails at once with a *PauseError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any) (int, []byte, error) {
	a, err := c.call(ctx, request{method: method, path: path, query: query, body: body})
	return a.code, a.body, err
}

// call sends r, the token redacted from any error.
func (c *Client) call(ctx context.Context, r request) (answer, error) {
	a, err := c.do(ctx, r)
	return a, c.redact(err)
}

func (c *Client) do(ctx context.Context, r request) (answer, error) {
	c.init()
	t, err := c.admit(ctx, r)
	if err != nil {
		return answer{}, err
	}
	var headers http.Header
	defer func() { c.done(t, headers) }()
	l, deadline := left(ctx)
	if deadline && l <= 0 {
		return answer{}, fmt.Errorf("%s %s: not sent: %w", r.method, r.path, context.DeadlineExceeded)
	}
	// A request gets the client's Timeout, or the time left before ctx's
	// deadline if that is less: then running out of time is that deadline
	// passing, and the error says so (errors.Is context.DeadlineExceeded).
	limit, expired := c.timeout(), errNoAnswer
	if deadline && l <= limit {
		limit = l
	} else {
		expired = fmt.Errorf("no answer within %s", limit)
	}
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	resp, err := c.roundTrip(rctx, r, expired)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	headers = resp.Header
	return c.read(rctx, r, resp, expired)
}

// admit waits for a rate-limit pause and for the budget, unless r is
// urgent: it is then sent at once, and counted.
func (c *Client) admit(ctx context.Context, r request) (ticket, error) {
	if r.urgent {
		c.budget.mu.Lock()
		defer c.budget.mu.Unlock()
		return c.budget.admit(c.now()), nil
	}
	if d := c.pausedFor(); d > 0 {
		if l, ok := left(ctx); ok && d > l {
			return ticket{}, &PauseError{Method: r.method, Path: r.path, Pause: d, Left: max(l, 0)}
		}
		if err := c.sleep(ctx, d); err != nil {
			return ticket{}, err
		}
	}
	return c.take(ctx)
}

// base is the API's base URL: BaseURL, with /api/v2 added to a bare host.
func (c *Client) base() string {
	b := strings.TrimRight(c.BaseURL, "/")
	if b == "" {
		return DefaultBaseURL
	}
	if u, err := url.Parse(b); err == nil && u.Path == "" {
		b += "/api/v2"
	}
	return b
}

// errNoAnswer is a request that ran out of the time left before its
// context's deadline.
var errNoAnswer = fmt.Errorf("no answer before the timeout%w", quiet{context.DeadlineExceeded})

// quiet wraps an error without adding to the message.
type quiet struct{ error }

func (quiet) Error() string   { return "" }
func (q quiet) Unwrap() error { return q.error }

// late is the error of a request whose context ctx (its own) ended: the
// caller's cancellation as it is, running out of time as a *NetError
// that says so (expired).
func late(ctx context.Context, r request, sent bool, expired error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	return &NetError{Method: r.method, Path: r.path, Sent: sent, Err: expired}
}

// roundTrip builds and sends the request. An error is the caller's
// cancellation, or a *NetError (expired when ctx, the request's own, ran
// out of time), or a refused redirect.
func (c *Client) roundTrip(ctx context.Context, r request, expired error) (*http.Response, error) {
	u := c.base() + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var rd io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	var sent bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { sent = true },
	})
	req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Circle-Token", c.Token)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	c.firstTry()
	resp, err := c.http.Do(req)
	if err == nil {
		c.reached.Store(true)
		return resp, nil
	}
	var re *RedirectError
	switch {
	case ctx.Err() != nil:
		return nil, late(ctx, r, sent, expired)
	case errors.As(err, &re):
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, re)
	}
	err, permanent := c.scrub(err, req.URL.Host)
	return nil, &NetError{Method: r.method, Path: r.path, Sent: sent, Permanent: permanent, Err: err}
}

// read reads an answer's body, capped, and turns a non-2xx status into a
// *StatusError; a 429 pauses every request through c.
func (c *Client) read(ctx context.Context, r request, resp *http.Response, expired error) (answer, error) {
	limit := c.MaxBody
	if limit == 0 {
		limit = DefaultMaxBody
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return answer{}, late(ctx, r, true, expired)
		}
		err, _ := c.scrub(err, resp.Request.URL.Host)
		return answer{}, &NetError{Method: r.method, Path: r.path, Sent: true, Err: fmt.Errorf("reading the answer: %w", err)}
	}
	ok := resp.StatusCode/100 == 2
	if int64(len(data)) > limit {
		if ok {
			return answer{}, &DecodeError{Method: r.method, Path: r.path, Err: fmt.Errorf("answer larger than %d bytes", limit)}
		}
		data = data[:limit]
	}
	if ok {
		date, _ := http.ParseTime(resp.Header.Get("Date"))
		return answer{code: resp.StatusCode, body: data, date: date}, nil
	}
	se := &StatusError{Method: r.method, Path: r.path, Code: resp.StatusCode, Message: ParseMessage(data)}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		se.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if se.RetryAfter == 0 {
			se.RetryAfter = defaultRetryAfter
		}
		c.pause(se.RetryAfter)
	}
	return answer{code: resp.StatusCode}, se
}

// scrub keeps the request URL out of a transport error: net/http puts it in
// *url.Error, and a URL must never carry anything secret, but a path full
// of escapes makes the message hard to read for no gain. It names the
// address (host) where the fault is likely the address's. It also tells
// errors that sending again cannot mend: an unknown host, an untrusted
// certificate, a plain-HTTP server asked for HTTPS, and a host that has
// refused every connection for FirstContact without ever answering (a
// host that answered before and refuses now is having an outage).
func (c *Client) scrub(err error, host string) (error, bool) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var op *net.OpError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Errorf("no such host %s: check the host", dns.Name), true
	case errors.As(err, &cert), errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid):
		return fmt.Errorf("%w: check the host (a CircleCI server with a private CA needs its certificate in the system's trust store, or in SSL_CERT_FILE)", err), true
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		fix := "check the host and port: CircleCI answers HTTPS"
		if loopback(host) {
			fix = "use http://" + host
		}
		return fmt.Errorf("%s answers plain HTTP, not HTTPS: %s", host, fix), true
	case errors.As(err, &op) && op.Op == "dial":
		never := !c.reached.Load() && c.now().Sub(c.firstTry()) >= FirstContact
		if never {
			return fmt.Errorf("cannot connect to %s for %s (%w): check the host, and that it is up", host, FirstContact, op.Err), true
		}
		return fmt.Errorf("cannot connect to %s: %w", host, op.Err), false
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("connection closed before a complete answer"), false
	}
	return err, false
}

// FirstContact is how long a host that never answered may refuse
// connections before the client takes its address for wrong.
const FirstContact = 5 * time.Second

// firstTry is when the client first sent a request, on its clock.
func (c *Client) firstTry() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first.IsZero() {
		c.first = c.now()
	}
	return c.first
}

// loopback tells a host of this machine (host, or host:port).
func loopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
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

// getAs sends a GET and reads its answer with parse: one it cannot read is
// a *DecodeError, the token redacted.
func getAs[T any](ctx context.Context, c *Client, path string, q url.Values, parse func([]byte) (T, error)) (T, error) {
	var zero T
	a, err := c.call(ctx, request{method: http.MethodGet, path: path, query: q})
	if err != nil {
		return zero, err
	}
	v, err := parse(a.body)
	if err != nil {
		return zero, c.redact(&DecodeError{Method: http.MethodGet, Path: path, Err: err})
	}
	stamp(&v, a.date)
	return v, nil
}

// stamp records on v, if it keeps it, the server's clock at the answer.
func stamp[T any](v *T, date time.Time) {
	if d, ok := any(v).(interface{ setAsOf(time.Time) }); ok {
		d.setAsOf(date)
	}
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

// NotCreatedError is a 200 answer to a trigger that holds a message and no
// pipeline: pipeline/run answers so when it creates none (for example
// "Ignoring pipeline due to CI skip in the commit").
type NotCreatedError struct {
	Method, Path string
	Message      string
}

func (e *NotCreatedError) Error() string {
	return fmt.Sprintf("%s %s: no pipeline was created: %s", e.Method, e.Path, e.Message)
}

// CreatePipeline sends a trigger, POST path with body, and returns the
// pipeline it created. An answer of 200 without a pipeline is a
// *NotCreatedError; any other 2xx answer it cannot read is a *DecodeError:
// the request may have created a pipeline all the same.
func (c *Client) CreatePipeline(ctx context.Context, path string, body any) (Pipeline, error) {
	a, err := c.call(ctx, request{method: http.MethodPost, path: path, body: body})
	if err != nil {
		return Pipeline{}, err
	}
	p, err := ParsePipeline(a.body)
	switch {
	case err == nil:
		p.AsOf = a.date
		return p, nil
	case a.code == http.StatusOK && !gjson.GetBytes(a.body, "id").Exists():
		msg := ParseMessage(a.body)
		if msg == "" {
			msg = "CircleCI answered 200 without creating a pipeline"
		}
		return Pipeline{}, &NotCreatedError{Method: http.MethodPost, Path: path, Message: msg}
	}
	return Pipeline{}, c.redact(&DecodeError{Method: http.MethodPost, Path: path, Err: err})
}

// Pipeline reads GET /pipeline/{id}.
func (c *Client) Pipeline(ctx context.Context, id string) (Pipeline, error) {
	return getAs(ctx, c, "/pipeline/"+url.PathEscape(id), nil, ParsePipeline)
}

// Workflows reads every page of GET /pipeline/{id}/workflow. On an error
// it returns, with it, the workflows of the pages read before it.
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
// newest first, page after page until older says a pipeline is older than
// those wanted, or pages pages were read. complete tells whether it got to
// such a pipeline (or to the end of the list).
func (c *Client) MyPipelines(ctx context.Context, slug Slug, older func(Pipeline) bool, pages int) (ps []Pipeline, complete bool, err error) {
	return list(ctx, c, slug.Path()+"/pipeline/mine", pages, pipelineFrom, older)
}

// DynamicConfig reads GET /pipeline/{id}/config and reports whether the
// pipeline used dynamic config (its answer has a setup-config).
func (c *Client) DynamicConfig(ctx context.Context, pipelineID string) (bool, error) {
	r, err := getAs(ctx, c, "/pipeline/"+url.PathEscape(pipelineID)+"/config", nil, object(""))
	return r.Get("setup-config").String() != "", err
}

// CancelWorkflow sends POST /workflow/{id}/cancel. It does not wait for a
// rate-limit pause nor for the request budget: a cancel is what a stopped
// job sends on its way out, within the few seconds it is given.
func (c *Client) CancelWorkflow(ctx context.Context, id string) error {
	_, err := c.call(ctx, request{method: http.MethodPost, path: "/workflow/" + url.PathEscape(id) + "/cancel", urgent: true})
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
// An error comes with the items of the pages read whole before it.
func list[T any](ctx context.Context, c *Client, path string, limit int, parse func(gjson.Result) (T, error), done func(T) bool) ([]T, bool, error) {
	var out []T
	tokens, ids := map[string]bool{}, map[string]bool{}
	var q url.Values
	bad := func(err error) error { return c.redact(&DecodeError{Method: http.MethodGet, Path: path, Err: err}) }
	for range limit {
		read := out // the pages read whole
		a, err := c.call(ctx, request{method: http.MethodGet, path: path, query: q})
		if err != nil {
			return read, false, err
		}
		p, err := parsePage(a.body)
		if err != nil {
			return read, false, bad(err)
		}
		finished := p.Next == "" || len(p.Items) == 0
		for _, it := range p.Items {
			v, err := parse(it)
			if err != nil {
				return read, false, bad(err)
			}
			stamp(&v, a.date)
			// Items without an id (tests, artifacts) are not checked.
			id := it.Get("id").String()
			if id != "" && ids[id] {
				return read, false, bad(fmt.Errorf("item %s listed twice", id))
			}
			ids[id] = true
			out = append(out, v)
			finished = finished || (done != nil && done(v))
		}
		if finished {
			return out, true, nil
		}
		if tokens[p.Next] {
			return read, false, bad(errors.New("the same next_page_token came back twice"))
		}
		tokens[p.Next] = true
		q = url.Values{"page-token": {p.Next}}
	}
	if limit < maxPages {
		return out, false, nil
	}
	return out, false, bad(fmt.Errorf("more than %d pages", maxPages))
}
