package fhirapi

import (
	"context"
	"sync"
)

// Defaults of the submission limits.
const (
	DefaultMaxSubmissionDocuments   = 200
	DefaultMaxConcurrentSubmissions = 16
)

// RuleBusy is the rule code of a submission refused because its system
// already has as many in progress as it may.
const RuleBusy = "SUBMISSION_BUSY"

// retryAfterSeconds is what a refused concurrent submission is told to wait.
const retryAfterSeconds = 2

// limiter counts the submissions each system has in progress.
type limiter struct {
	max int
	mu  sync.Mutex
	n   map[string]int // only systems with submissions in progress
}

func newLimiter(max int) *limiter { return &limiter{max: max, n: map[string]int{}} }

// acquire takes a place for the system, or reports false when it has none left.
func (l *limiter) acquire(system string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[system] >= l.max {
		return false
	}
	l.n[system]++
	return true
}

func (l *limiter) release(system string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[system]--; l.n[system] <= 0 {
		delete(l.n, system)
	}
}

// submitHook, when set (tests), runs in every submission once its body is
// parsed, while it holds its system's place.
type submitHook = func(ctx context.Context, system string)
