package cli_test

// A wrong address is told within seconds, naming the address and the
// likely fix; an outage of an address that answered keeps its retries.

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

// refused is a dial to a closed port, as net/http reports it.
func refused(req *http.Request) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1},
		Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
}

func TestWrongAddressIsToldInSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  func(*http.Request) error
		want []string
	}{
		{"connection refused", refused, []string{"cannot connect to 127.0.0.1:1", "connection refused", "check the host"}},
		{"https to a plain-http server", func(*http.Request) error {
			return errors.New("http: server gave HTTP response to HTTPS client")
		}, []string{"127.0.0.1:1 answers plain HTTP", "use http://127.0.0.1:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait")
			p.Transport = failingFor{err: tc.err}
			r := p.Run()
			r.Expect(t, 4, tc.want...)
			if r.Elapsed > 10*time.Second {
				t.Errorf("told after %s", r.Elapsed)
			}
		})
	}
}

// An address that answered once and then refuses connections is an
// outage: the wait rides it out.
func TestOutageAfterAnAnswerIsRiddenOut(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait")
	var calls atomic.Int32
	p.Prepare = func(s *circlecitest.Simulator) {
		p.Transport = failingFor{err: func(req *http.Request) error {
			if n := calls.Add(1); n >= 2 && n <= 8 { // the trigger answered; then 7 requests refused
				return refused(req)
			}
			return nil
		}, next: s.Transport()}
	}
	r := p.Run()
	r.Expect(t, 0, "connection refused; still waiting", "the API answers again")
}

// failingFor fails the requests err says so (nil: next answers).
type failingFor struct {
	err  func(*http.Request) error
	next http.RoundTripper
}

func (f failingFor) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := f.err(req); err != nil || f.next == nil {
		if req.Body != nil {
			io.Copy(io.Discard, req.Body)
		}
		return nil, &url.Error{Op: req.Method, URL: req.URL.String(), Err: err}
	}
	return f.next.RoundTrip(req)
}
