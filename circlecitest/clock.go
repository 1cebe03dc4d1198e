package circlecitest

import (
	"context"
	"sync"
	"time"
)

// FakeClock is a circleci.Clock whose Sleep returns at once, after moving
// its time forward. A simulator and a client that share one (NewServer,
// Server.Client) run a 30-minute wait in milliseconds. It is safe for
// concurrent use; concurrent sleepers each add their own duration, so it
// suits one waiter at a time best. (Inside a testing/synctest bubble, the
// real clock is virtual already: use a nil clock and Simulator.Transport.)
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
	// Slept records every Sleep, in order.
	Slept []time.Duration
}

// NewFakeClock starts a fake clock at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the fake time.
func (f *FakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Sleep advances the fake time by d, unless ctx has ended.
func (f *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	f.Advance(d)
	f.mu.Lock()
	f.Slept = append(f.Slept, d)
	f.mu.Unlock()
	return nil
}

// Advance moves the fake time forward.
func (f *FakeClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}
