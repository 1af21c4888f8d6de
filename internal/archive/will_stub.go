package archive

// TEMPORARY STUB (branch h-fhir only): the lead writes these service
// methods on branch d; this file only lets the FHIR door compile until
// then. Drop this file on merge.

import (
	"context"

	"github.com/arkisto/arkisto/internal/consent"
)

func stubErr() error {
	return &Error{Kind: ErrInvalid, Message: "not implemented yet (will_stub.go)"}
}

// RecordWill (stub).
func (s *Service) RecordWill(ctx context.Context, c Caller, e *consent.Expression) (*consent.Expression, error) {
	return nil, stubErr()
}

// WithdrawWill (stub).
func (s *Service) WithdrawWill(ctx context.Context, c Caller, id string, by consent.Recorder) (*consent.Expression, error) {
	return nil, stubErr()
}

// Will (stub).
func (s *Service) Will(ctx context.Context, c Caller, id string) (*consent.Expression, error) {
	return nil, stubErr()
}

// Wills (stub).
func (s *Service) Wills(ctx context.Context, c Caller, clientKey string) ([]*consent.Expression, error) {
	return nil, stubErr()
}

// Disclosures (stub).
func (s *Service) Disclosures(ctx context.Context, c Caller, q DisclosureQuery) ([]*Disclosure, error) {
	return nil, stubErr()
}

// ReportDisclosure (stub).
func (s *Service) ReportDisclosure(ctx context.Context, c Caller, d *Disclosure) (*Disclosure, error) {
	return nil, stubErr()
}
