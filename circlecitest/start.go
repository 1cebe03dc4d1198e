package circlecitest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// Server is a simulator listening on a loopback port, in the manner of
// httptest.Server: start one with NewServer and Close it when done.
type Server struct {
	*Simulator
	// URL is the simulated CircleCI's address, e.g. http://127.0.0.1:50123:
	// a client's host (the API is at URL/api/v2).
	URL string
	// Token is a token the simulator accepts.
	Token string

	clk circleci.Clock
	srv *httptest.Server
}

// NewServer starts a simulator over sc on a loopback port. clk is the
// simulator's clock (nil: the real one); give a client the same, or use
// Client. It panics on a scenario that Check refuses.
func NewServer(sc *Scenario, clk circleci.Clock) *Server {
	s := NewSimulator(sc, clk)
	srv := httptest.NewServer(s)
	return &Server{Simulator: s, URL: srv.URL, Token: s.sc.Tokens[0], clk: clk, srv: srv}
}

// Client returns an API client for the server, with its token and clock.
func (s *Server) Client() *circleci.Client {
	return &circleci.Client{BaseURL: s.URL, Token: s.Token, Clock: s.clk}
}

// Close ends requests held open by a Hang fault, then shuts the server down.
func (s *Server) Close() {
	s.Simulator.Close()
	s.srv.Close()
}

// Transport carries requests to the simulator in memory, without sockets:
// inside a testing/synctest bubble, where time is virtual and moves on only
// when every goroutine waits, a run against the simulator is deterministic.
// (A real connection would stall such a bubble.) A connection the
// simulator drops is an error after the request was written, as on a
// network.
func (s *Simulator) Transport() http.RoundTripper { return transport{s} }

type transport struct{ h http.Handler }

func (t transport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if trace := httptrace.ContextClientTrace(req.Context()); trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{})
	}
	rec := httptest.NewRecorder()
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			resp, err = nil, io.ErrUnexpectedEOF // the simulator dropped the connection
		}
	}()
	m := &marks{}
	srv := req.Clone(context.WithValue(req.Context(), marksKey{}, m))
	srv.RequestURI = req.URL.RequestURI()
	if srv.Body == nil {
		srv.Body = http.NoBody // a server's request always has one
	}
	t.h.ServeHTTP(rec, srv)
	if err := req.Context().Err(); err != nil {
		m.lost.Store(true)
		if s, ok := t.h.(*Simulator); ok {
			s.spoil(req.URL.Query().Get("page-token")) // the read these pages make failed
		}
		return nil, err
	}
	res := rec.Result()
	res.Request = req
	return res, nil
}
