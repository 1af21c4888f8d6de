package fhirapi

import "context"

// SetSubmitHook makes every submission call h once its body is parsed,
// while it holds its system's place (tests of the concurrency bound and
// of clients that go away).
func SetSubmitHook(s *Server, h func(ctx context.Context, system string)) {
	if h == nil {
		s.submitHook.Store(nil)
		return
	}
	s.submitHook.Store(&h)
}
