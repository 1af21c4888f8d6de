package sqlstore

import "github.com/arkisto/arkisto/internal/archive"

// The errors the backends make of their constraint violations, worded
// once so that a caller sees the same answer on every backend.

// Duplicate is a unique key taken: the document id, or the version of its
// set, is archived already. retry says whether the write may succeed when
// run again (PostgreSQL reports a concurrent insert of the same key so).
func Duplicate(retry bool) error {
	return &archive.Error{Kind: archive.ErrConflict, Retry: retry, Message: "a document with this id, or this version of its set, is already archived"}
}

// CertificateTaken is a system certificate registered to another system.
func CertificateTaken() error {
	return &archive.Error{Kind: archive.ErrConflict, Message: "this certificate is already registered to another system"}
}

// NotOnboarded is a reference to an organisation the archive does not know.
func NotOnboarded(oid string) error {
	return &archive.Error{Kind: archive.ErrNotFound, Message: "organisation " + oid + " is not onboarded; add it first"}
}
