package archivetest

// Signatures bind to the document they vouch for, and revoked signers are
// refused (docs/document-format.md, "Signatures").

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// Resign renders a document's header (changed by mutate) and its signed
// body again, signed by signer: the header an attacker would rewrite around
// a body someone signed.
func (e *Env) Resign(d *gen.Doc, signer *xmldsig.Signer, mutate func(h *cda.Header)) []byte {
	e.T.Helper()
	doc, probs := cda.Read(d.XML, cda.Options{})
	if doc == nil || len(probs) > 0 {
		e.T.Fatalf("generated document does not read: %v", probs)
	}
	h := doc.Header
	h.Signatures = nil
	if mutate != nil {
		mutate(&h)
	}
	xml, err := gen.Render(&h, doc.Body, signer, false)
	if err != nil {
		e.T.Fatal(err)
	}
	return xml
}

// SystemSigner signs as the organisation's system.
func SystemSigner(o *gen.Organisation) *xmldsig.Signer {
	return &xmldsig.Signer{Key: o.System.Key, Cert: o.System.Cert, Chain: o.System.Chain, TypeCode: codes.SignatureSystem}
}

// ProfessionalSigner signs as the professional with the registration number.
func (e *Env) ProfessionalSigner(reg string) (*xmldsig.Signer, *pki.Identity) {
	e.T.Helper()
	for _, p := range e.World.Professionals {
		if p.RegistrationNumber == reg {
			id := p.Identity
			return &xmldsig.Signer{Key: id.Key, Cert: id.Cert, Chain: id.Chain, TypeCode: codes.SignatureProfessional}, id
		}
	}
	e.T.Fatalf("no professional %s in the world", reg)
	return nil, nil
}

// wantRefusedFor asserts an invalid-document refusal with the rule at a
// path containing pathPart, nothing stored, and the refusal in the log.
func (e *Env) wantRefusedFor(err error, d *cda.Header, rule, pathPart string) {
	e.T.Helper()
	var ae *archive.Error
	if !errors.As(err, &ae) || !errors.Is(err, archive.ErrInvalid) || !ae.Problems.Has(rule) {
		e.T.Fatalf("want an invalid document with %s, got %v", rule, err)
	}
	found := false
	for _, p := range ae.Problems {
		found = found || (p.Code == rule && strings.Contains(p.Path, pathPart))
	}
	if !found {
		e.T.Errorf("no %s at a path with %q: %v", rule, pathPart, ae.Problems)
	}
	ctx := context.Background()
	err = e.Store.View(ctx, func(tx archive.Tx) error {
		_, err := tx.Document(ctx, d.ID)
		return err
	})
	if !errors.Is(err, archive.ErrNotFound) {
		e.T.Errorf("the refused document was stored: %v", err)
	}
	log := e.AccessLog(archive.ClientKey(d.Client.ID))
	if len(log) == 0 || log[len(log)-1].Outcome != archive.OutcomeRefused || !strings.Contains(log[len(log)-1].Reason, rule) {
		e.T.Errorf("the refusal is not logged with %s: %+v", rule, log)
	}
}

func header(t *testing.T, xml []byte) *cda.Header {
	t.Helper()
	d, probs := cda.Read(xml, cda.Options{})
	if d == nil || len(probs) > 0 {
		t.Fatalf("document does not read: %v", probs)
	}
	return &d.Header
}

// A certificate revoked by an imported CRL signs nothing into the archive,
// even when the revocation came after the signature time it claims, and the
// revocation takes effect on a running service within its trust TTL.
func testRevokedSigner(t *testing.T, e *Env) {
	ctx := context.Background()
	rels := []*gen.Doc{e.Next(), e.Next(), e.Next(), e.Next()} // client relationship documents, system-signed
	org := rels[0].Org
	if rels[2].Org != org || rels[1].Org == org {
		t.Fatal("fixture: the generator no longer alternates organisers")
	}
	e.Archive(rels[0])
	plan := e.Next() // a client plan of rels[0]'s client, signed by its author
	if plan.Org != org {
		t.Fatal("fixture: the plan is not of the first organiser")
	}
	_, prof := e.ProfessionalSigner(plan.Header.Author.ID.Extension)

	signedAt := header(t, rels[2].XML).Signatures[0].Timestamp
	err := e.Store.Update(ctx, func(tx archive.Tx) error {
		for _, c := range []*x509.Certificate{org.System.Cert, prof.Cert} {
			issuer, serial := archive.RevocationKey(c)
			if _, err := tx.AddRevoked(ctx, archive.RevokedCert{Issuer: issuer, Serial: serial, RevokedAt: signedAt.Add(time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The service has the revocation list cached; it reloads after its TTL.
	e.Later(archive.DefaultTrustTTL + time.Second)

	_, err = e.Service.Archive(ctx, Caller(org), rels[2].XML)
	e.wantRefusedFor(err, rels[2].Header, xmldsig.RuleRevoked, "hl7fi:signature[1]/ds:Signature/ds:KeyInfo")
	_, err = e.Service.Archive(ctx, Caller(org), plan.XML)
	e.wantRefusedFor(err, plan.Header, xmldsig.RuleRevoked, "hl7fi:signature[1]/ds:Signature/ds:KeyInfo")
	// Another organisation's signer is not affected.
	e.Archive(rels[1])
	// What was archived before the revocation stays archived.
	if _, _, err := e.Service.Get(ctx, Caller(org), rels[0].Header.ID); err != nil {
		t.Fatalf("a document archived before the revocation: %v", err)
	}
}

// A system signature must be the custodian's or the submitter's: a body
// signed by one organisation cannot be filed by another under its own name.
func testSignerOfAnotherOrganisation(t *testing.T, e *Env) {
	ctx := context.Background()
	d, other := e.Next(), e.Next()
	owner, stranger := d.Org, other.Org
	if owner == stranger {
		t.Fatal("fixture: one organiser")
	}
	// The owner's document, signed by the stranger's system, sent by the owner.
	forged := e.Resign(d, SystemSigner(stranger), nil)
	_, err := e.Service.Archive(ctx, Caller(owner), forged)
	e.wantRefusedFor(err, d.Header, archive.RuleSignerOrganisation, "hl7fi:signature[1]/ds:Signature/ds:KeyInfo")
	// Sent by the stranger, it is not the stranger's register either.
	if _, err := e.Service.Archive(ctx, Caller(stranger), forged); err == nil {
		t.Fatal("the stranger archived into the owner's register")
	}
	// Signed by the custodian's own system it is archived.
	if _, err := e.Service.Archive(ctx, Caller(owner), e.Resign(d, SystemSigner(owner), nil)); err != nil {
		t.Fatalf("signed by the custodian: %v", err)
	}
}

// The header the archive indexes must agree with what the signed body
// says: a body signed for one client is not filed under another, a client
// relationship not in another organiser's register, and a professional
// signs as the author.
func testSignedBodyBindsHeader(t *testing.T, e *Env) {
	ctx := context.Background()
	rels := []*gen.Doc{e.Next(), e.Next(), e.Next(), e.Next()}
	org, otherOrg := rels[0].Org, rels[1].Org
	victim := rels[2].Header.Client // another client of the same organiser

	// A client relationship document of one client filed under another.
	forged := e.Resign(rels[0], SystemSigner(org), func(h *cda.Header) { h.Client = victim })
	_, err := e.Service.Archive(ctx, Caller(org), forged)
	e.wantRefusedFor(err, header(t, forged), archive.RuleBodyClient, "/ClinicalDocument/recordTarget/patientRole/id")

	// The same document moved into another organiser's register, signed
	// and sent by that organiser.
	moved := e.Resign(rels[0], SystemSigner(otherOrg), func(h *cda.Header) {
		h.Custodian = cda.Organisation{OID: otherOrg.ControllerOID(), Name: otherOrg.Name}
		h.Organiser = h.Custodian
	})
	_, err = e.Service.Archive(ctx, Caller(otherOrg), moved)
	e.wantRefusedFor(err, header(t, moved), archive.RuleBodyOrganiser, "custodian")

	// A client plan (its form names the client) filed under another client,
	// signed again by its author.
	e.Archive(rels[0])
	e.Archive(rels[2])
	plan := e.Next()
	signer, _ := e.ProfessionalSigner(plan.Header.Author.ID.Extension)
	forged = e.Resign(plan, signer, func(h *cda.Header) { h.Client = victim })
	_, err = e.Service.Archive(ctx, Caller(org), forged)
	e.wantRefusedFor(err, header(t, forged), archive.RuleBodyClient, "/ClinicalDocument/recordTarget/patientRole/id")

	// The plan signed by a professional who is not its author.
	var colleague string
	for _, p := range e.World.Professionals {
		if p.RegistrationNumber != plan.Header.Author.ID.Extension {
			colleague = p.RegistrationNumber
			break
		}
	}
	signer, _ = e.ProfessionalSigner(colleague)
	notAuthor := e.Resign(plan, signer, nil)
	_, err = e.Service.Archive(ctx, Caller(org), notAuthor)
	e.wantRefusedFor(err, plan.Header, archive.RuleSignerAuthor, "hl7fi:signature[1]/ds:Signature/ds:KeyInfo")

	// As generated, it is archived.
	e.Archive(plan)
}
