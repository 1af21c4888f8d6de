package archive

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// PatientSecret names the archive's secret (Secrets) under which Patient
// ids are derived.
const PatientSecret = "patient-id-key"

// PatientID is the FHIR Patient id of a client: the first 128 bits of
// HMAC-SHA256 under the archive's secret of the client key, in hex. The
// same client has the same id on every server of the archive; without the
// secret no one can tell whose an id is, nor compute a client's id from an
// identity code to probe for it. The archive finds the client of an id by
// the id it stored with each document (Documents.PatientClient).
func PatientID(key []byte, clientKey string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("patient\x00" + clientKey))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// patientKey is the key of Patient ids: the archive's when the store keeps
// secrets, else one of this process (ids then last as long as it does).
func (s *Service) patientKey(ctx context.Context) ([]byte, error) {
	s.cursorMu.Lock()
	defer s.cursorMu.Unlock()
	if s.patientKeyBytes != nil {
		return s.patientKeyBytes, nil
	}
	if sec, ok := s.store.(Secrets); ok {
		k, err := sec.Secret(ctx, PatientSecret, 32)
		if err != nil {
			return nil, fmt.Errorf("the patient id key: %w", err)
		}
		s.patientKeyBytes = k
		return k, nil
	}
	k := make([]byte, 32)
	rand.Read(k)
	s.patientKeyBytes = k
	return k, nil
}

// PatientID returns the Patient id of a client key.
func (s *Service) PatientID(ctx context.Context, clientKey string) (string, error) {
	k, err := s.patientKey(ctx)
	if err != nil {
		return "", err
	}
	return PatientID(k, clientKey), nil
}

// Patient is a client as the FHIR Patient resource shows it: by id and
// identifier, no name (names stay in the documents).
type Patient struct {
	ID        string
	ClientKey string
	// Updated is when the archive last changed anything of the client it
	// shows: the newest change of the client's documents the caller sees.
	Updated time.Time
}

// Patient returns the client with the Patient id patientID, or when that
// is empty the client with clientKey, if the caller may know of the
// client: if it may use at least one of the client's documents (its own
// register's, or one a client relationship lets it use). A client the
// caller may not know of is ErrNotFound, as one the archive does not know;
// the refusal is logged. An allowed lookup is logged as a read of the
// client.
func (s *Service) Patient(ctx context.Context, c Caller, patientID, clientKey string) (*Patient, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	pid := patientID
	if pid == "" {
		var err error
		if pid, err = s.PatientID(ctx, clientKey); err != nil {
			return nil, err
		}
	}
	entry := &AccessEntry{Caller: c, Action: ActionRead, ClientKey: clientKey, Details: "patient"}
	missing := errf(ErrNotFound, "no such Patient")
	var p *Patient
	err := s.readDisclosing(ctx, entry, nil, func(tx Tx) error {
		key := clientKey
		if key == "" {
			var err error
			key, err = tx.PatientClient(ctx, pid)
			if errors.Is(err, ErrNotFound) {
				return missing
			}
			if err != nil {
				return err
			}
		}
		entry.ClientKey = key
		scope, d := s.policy.Scope(ctx, tx, c, key)
		if !d.Allowed {
			entry.Reason = d.Reason
			return missing
		}
		recs, err := tx.Search(ctx, Query{ClientKey: key, Limit: 1, Statuses: []Status{StatusCurrent, StatusSuperseded, StatusNullified}}, scope)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			entry.Reason = "the caller may use none of the client's documents"
			return missing
		}
		if len(scope.Controllers) == 1 && len(scope.Grants) == 0 && scope.Disclosure == nil {
			entry.Custodian = scope.Controllers[0]
		}
		entry.Reason = "the caller may use documents of the client: " + d.Reason
		p = &Patient{ID: pid, ClientKey: key, Updated: recs[0].LastUpdated()}
		return nil
	})
	if err != nil {
		return nil, s.refuse(ctx, err, entry)
	}
	return p, nil
}
