package archive

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/arkisto/arkisto/internal/pki"
)

// Admin makes the archive's administrative changes: trust anchors,
// organisations and their registers, systems, CRLs and archivists. Every
// tool that changes them (the CLI, a future administration UI) goes
// through it, so that each change is checked and logged in one place.
// Each method is one transaction.
type Admin struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
}

// NewAdmin administers the archive in the store.
func NewAdmin(st Store, logger *slog.Logger) *Admin {
	if logger == nil {
		logger = slog.Default()
	}
	return &Admin{store: st, log: logger, now: time.Now}
}

// AddTrustAnchor trusts a CA certificate for document signatures and TLS
// clients; false when it was trusted already.
func (a *Admin) AddTrustAnchor(ctx context.Context, cert *x509.Certificate) (bool, error) {
	var added bool
	err := a.store.Update(ctx, func(tx Tx) error {
		var err error
		added, err = tx.AddTrustAnchor(ctx, cert)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("add trust anchor: %w", err)
	}
	if added {
		a.log.InfoContext(ctx, "trust anchor added", "subject", cert.Subject.String(), "sha256", pki.Fingerprint(cert))
	}
	return added, nil
}

// Onboard adds an organisation with registers of the given types (the
// social welfare client register when none are given). PutOrganisation
// adds one without a register.
func (a *Admin) Onboard(ctx context.Context, o *Organisation, registerTypes ...string) error {
	err := a.store.Update(ctx, func(tx Tx) error { return Onboard(ctx, tx, o, registerTypes...) })
	if err != nil {
		return fmt.Errorf("onboard %s: %w", o.OID, err)
	}
	a.log.InfoContext(ctx, "organisation onboarded", "oid", o.OID, "kind", o.Kind)
	return nil
}

// PutOrganisation adds or changes an organisation without touching its
// registers.
func (a *Admin) PutOrganisation(ctx context.Context, o *Organisation) error {
	if err := a.store.Update(ctx, func(tx Tx) error { return tx.PutOrganisation(ctx, o) }); err != nil {
		return fmt.Errorf("store organisation %s: %w", o.OID, err)
	}
	a.log.InfoContext(ctx, "organisation stored", "oid", o.OID, "kind", o.Kind)
	return nil
}

// UpdateOrganisation changes an onboarded organisation with change, in one
// transaction; ErrNotFound when it is not onboarded.
func (a *Admin) UpdateOrganisation(ctx context.Context, oid string, change func(*Organisation) error) (*Organisation, error) {
	var o *Organisation
	err := a.store.Update(ctx, func(tx Tx) error {
		var err error
		if o, err = tx.Organisation(ctx, oid); err != nil {
			return err
		}
		if err := change(o); err != nil {
			return err
		}
		return tx.PutOrganisation(ctx, o)
	})
	if err != nil {
		return nil, err
	}
	a.log.InfoContext(ctx, "organisation updated", "oid", oid)
	return o, nil
}

// AddRegister gives an onboarded controller a register; ErrNotFound when
// the controller is not onboarded.
func (a *Admin) AddRegister(ctx context.Context, controller, typ string) error {
	err := a.store.Update(ctx, func(tx Tx) error {
		o, err := tx.Organisation(ctx, controller)
		if err != nil {
			return err
		}
		return Onboard(ctx, tx, o, typ)
	})
	if err != nil {
		return err
	}
	a.log.InfoContext(ctx, "register added", "controller", controller, "type", typ)
	return nil
}

// AddSystem registers a client information system of an onboarded
// organisation with its certificate; ErrNotFound when the organisation is
// not onboarded.
func (a *Admin) AddSystem(ctx context.Context, s *System) error {
	err := a.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Organisation(ctx, s.Organisation); err != nil {
			return err
		}
		return tx.PutSystem(ctx, s)
	})
	if err != nil {
		return err
	}
	a.log.InfoContext(ctx, "system registered", "system", s.Name, "organisation", s.Organisation, "sha256", pki.Fingerprint(s.Cert))
	return nil
}

// RevokeSystem revokes a system's certificate from now on; ErrNotFound
// when no system has the name.
func (a *Admin) RevokeSystem(ctx context.Context, name string) error {
	if err := a.store.Update(ctx, func(tx Tx) error { return tx.RevokeSystem(ctx, name, a.now().UTC()) }); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "system revoked", "system", name)
	return nil
}

// ErrCRLUntrusted refuses a CRL no trust anchor signed: an unsigned list
// could make any signer look revoked.
var ErrCRLUntrusted = errors.New("the CRL is not signed by a trusted CA")

// ImportCRL records the certificates a CRL revokes, once its signature
// checks out against a trust anchor. It returns the CA that signed it and
// how many revocations were new.
func (a *Admin) ImportCRL(ctx context.Context, crl *x509.RevocationList) (*x509.Certificate, int, error) {
	var issuer *x509.Certificate
	added := 0
	err := a.store.Update(ctx, func(tx Tx) error {
		anchors, err := tx.TrustAnchors(ctx)
		if err != nil {
			return err
		}
		if issuer = CRLIssuer(crl, anchors); issuer == nil {
			return ErrCRLUntrusted
		}
		for _, rc := range CRLRevocations(crl) {
			ok, err := tx.AddRevoked(ctx, rc)
			if err != nil {
				return err
			}
			if ok {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	a.log.InfoContext(ctx, "CRL imported", "issuer", issuer.Subject.String(), "revoked", len(crl.RevokedCertificateEntries), "new", added)
	return issuer, added, nil
}

// CRLIssuer returns the anchor that signed the CRL, or nil.
func CRLIssuer(crl *x509.RevocationList, anchors []*x509.Certificate) *x509.Certificate {
	for _, c := range anchors {
		if crl.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}

// CRLRevocations lists what a CRL revokes, named as RevocationKey names
// a certificate.
func CRLRevocations(crl *x509.RevocationList) []RevokedCert {
	issuer := issuerKey(crl.RawIssuer)
	out := make([]RevokedCert, 0, len(crl.RevokedCertificateEntries))
	for _, e := range crl.RevokedCertificateEntries {
		out = append(out, RevokedCert{Issuer: issuer, Serial: e.SerialNumber.Text(16), RevokedAt: e.RevocationTime.UTC()})
	}
	return out
}

// AddArchivist makes a person an archivist of an onboarded controller;
// ErrNotFound when the controller is not onboarded.
func (a *Admin) AddArchivist(ctx context.Context, ar *Archivist) error {
	err := a.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Organisation(ctx, ar.Controller); err != nil {
			return err
		}
		return tx.PutArchivist(ctx, ar)
	})
	if err != nil {
		return err
	}
	a.log.InfoContext(ctx, "archivist added", "controller", ar.Controller)
	return nil
}

// RemoveArchivist ends a person's archivist assignment; false when there
// was none.
func (a *Admin) RemoveArchivist(ctx context.Context, person, controller string) (bool, error) {
	var ok bool
	err := a.store.Update(ctx, func(tx Tx) error {
		var err error
		ok, err = tx.RemoveArchivist(ctx, person, controller)
		return err
	})
	if err == nil && ok {
		a.log.InfoContext(ctx, "archivist removed", "controller", controller)
	}
	return ok, err
}

// Setup is a set of administrative changes made together: a new
// archive's trust anchors, organisations (each with a social welfare
// client register) and systems.
type Setup struct {
	Anchors       []*x509.Certificate
	Organisations []*Organisation
	Systems       []*System
}

// Apply makes the changes of a setup in one transaction.
func (a *Admin) Apply(ctx context.Context, s Setup) error {
	err := a.store.Update(ctx, func(tx Tx) error {
		for _, c := range s.Anchors {
			if _, err := tx.AddTrustAnchor(ctx, c); err != nil {
				return err
			}
		}
		for _, o := range s.Organisations {
			if err := Onboard(ctx, tx, o); err != nil {
				return err
			}
		}
		for _, sys := range s.Systems {
			if err := tx.PutSystem(ctx, sys); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set up the archive: %w", err)
	}
	a.log.InfoContext(ctx, "archive set up", "anchors", len(s.Anchors), "organisations", len(s.Organisations), "systems", len(s.Systems))
	return nil
}
