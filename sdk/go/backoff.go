package corvo

import (
	"math/rand/v2"
	"time"
)

// Reconnect backoff bounds (SPEC: 100 ms doubling to 10 s, full jitter).
const (
	backoffFirst = 100 * time.Millisecond
	backoffMax   = 10 * time.Second
)

// backoff is exponential backoff with full jitter: the n-th wait is uniform in
// [0, min(max, first·2ⁿ)], and at least the server's retry hint when it gave one.
type backoff struct {
	first, max time.Duration
	attempt    int
	rand       func() float64 // uniform in [0, 1); replaceable in tests
}

func newBackoff() *backoff {
	return &backoff{first: backoffFirst, max: backoffMax, rand: rand.Float64}
}

// ceiling is the largest wait of the current attempt.
func (b *backoff) ceiling() time.Duration {
	c := b.first
	for i := 0; i < b.attempt && c < b.max; i++ {
		c *= 2
	}
	return min(c, b.max)
}

// next returns the wait before the next attempt (at least hint) and moves on.
func (b *backoff) next(hint time.Duration) time.Duration {
	d := time.Duration(b.rand() * float64(b.ceiling()))
	if b.ceiling() < b.max {
		b.attempt++
	}
	return max(d, hint)
}

// reset starts over after a success.
func (b *backoff) reset() { b.attempt = 0 }
