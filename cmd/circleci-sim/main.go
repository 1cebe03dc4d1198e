// Command circleci-sim serves a simulated CircleCI API v2 on this machine,
// for tests, demos and rehearsing a fan-out offline.
//
//	circleci-sim [--scenario demo|FILE] [--addr 127.0.0.1:0] [-- COMMAND ARGS…]
//
// With a command, it runs the command with CIRCLE_HOST and CIRCLE_TOKEN
// pointing at the simulator, prints the requests it received, and exits with
// the command's exit code. Without one, it serves until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// about says what each built-in scenario is for.
var about = map[string]string{
	"demo":    "projects that succeed, fail, hold, rerun and fan out (the default)",
	"hostile": "everything a client must survive: skewed clock, lagging lists, others' pipelines, rate limits, faults",
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `circleci-sim serves a simulated CircleCI API v2 on this machine.

Usage:
  circleci-sim [flags]                       serve until interrupted, printing CIRCLE_HOST and CIRCLE_TOKEN
  circleci-sim [flags] -- COMMAND [ARGS...]  run COMMAND against it and exit with its exit code

Flags:
`)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nScenarios (or a scenario JSON file of your own, e.g. a copy of one of these):")
	for _, name := range circlecitest.Builtins() {
		sc, err := circlecitest.Open(name)
		if err != nil {
			continue
		}
		slugs := make([]string, len(sc.Projects))
		for i, p := range sc.Projects {
			slugs[i] = p.Slug
		}
		fmt.Fprintf(w, "  %-8s %s\n           projects: %s\n", name, about[name], strings.Join(slugs, ", "))
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("circleci-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenario := fs.String("scenario", "demo", "a built-in scenario (below) or a scenario JSON file")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (loopback only)")
	quiet := fs.Bool("quiet", false, "with a command: do not list the requests received")
	fs.Usage = func() {} // --help is answered below, on stdout
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			usage(stdout, fs)
			return 0
		}
		fmt.Fprintln(stderr, "circleci-sim: see circleci-sim --help")
		return 2
	}
	sc, err := circlecitest.Open(*scenario)
	if err != nil {
		fmt.Fprintf(stderr, "circleci-sim: scenario: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "circleci-sim: %v\n", err)
		return 2
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		ln.Close()
		fmt.Fprintln(stderr, "circleci-sim: listen on a loopback address only")
		return 2
	}
	s := circlecitest.NewSimulator(sc, nil)
	srv := &http.Server{Handler: s}
	go srv.Serve(ln)
	defer srv.Close()
	host := "http://" + ln.Addr().String()

	if fs.NArg() == 0 {
		fmt.Fprintf(stdout, "circleci-sim listening on %s (token %q)\nexport CIRCLE_HOST=%s CIRCLE_TOKEN=%s\n", host, sc.Tokens[0], host, sc.Tokens[0])
		<-ctx.Done()
		return 0
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(), "CIRCLE_HOST="+host, "CIRCLE_TOKEN="+sc.Tokens[0], "CCI_TOKEN=", "GITHUB_ACTIONS=", "CIRCLECI=")
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "circleci-sim: %v\n", err)
		return 2
	}
	go func() { // pass an interruption on, so the command can cancel downstream work
		<-ctx.Done()
		cmd.Process.Signal(syscall.SIGTERM)
	}()
	err = cmd.Wait()
	if !*quiet {
		fmt.Fprintf(stderr, "\ncircleci-sim received %d requests:\n", len(s.Requests()))
		for _, r := range s.Requests() {
			fmt.Fprintf(stderr, "  %3d %-4s %s\n", r.Status, r.Method, r.Path)
		}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(stderr, "circleci-sim: %v\n", err)
		return 2
	}
	return 0
}
