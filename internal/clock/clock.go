// Package clock holds the fake circleci.Clock that tests and benchmarks
// inject into the API client and the simulator, so that a 30-minute wait
// runs in milliseconds.
package clock

import (
	"context"
	"sync"
	"time"
)

// Fake is a clock whose Sleep returns at once after moving time forward.
// It is safe for concurrent use; concurrent sleepers each add their own
// duration, so it suits one waiter at a time best.
type Fake struct {
	mu  sync.Mutex
	now time.Time
	// Slept records every Sleep, in order.
	Slept []time.Duration
}

// NewFake starts a fake clock at t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Sleep advances the fake time by d.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
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
func (f *Fake) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}
