package fhirapi_test

// Revoked signers and certificates, and signatures bound to the document,
// through the FHIR door over real HTTPS.

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

func (e *env) revoke(c *x509.Certificate, at time.Time) {
	e.t.Helper()
	ctx := context.Background()
	issuer, serial := archive.RevocationKey(c)
	err := e.store.Update(ctx, func(tx archive.Tx) error {
		_, err := tx.AddRevoked(ctx, archive.RevokedCert{Issuer: issuer, Serial: serial, RevokedAt: at})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// resign renders a generated document's header (changed by mutate) and
// signed body again with another signer.
func resign(t *testing.T, d *gen.Doc, s *xmldsig.Signer, mutate func(h *cda.Header)) (*cda.Header, []byte) {
	t.Helper()
	doc, probs := cda.Read(d.XML, cda.Options{})
	if doc == nil || len(probs) > 0 {
		t.Fatalf("generated document does not read: %v", probs)
	}
	h := doc.Header
	h.Signatures = nil
	if mutate != nil {
		mutate(&h)
	}
	xml, err := gen.Render(&h, doc.Body, s, false)
	if err != nil {
		t.Fatal(err)
	}
	return &h, xml
}

// expectRefusedDoc asserts a 422 naming the rule and that nothing was stored.
func expectRefusedDoc(t *testing.T, c *caller, h *cda.Header, xml []byte, code, rule, cdaPath string) {
	t.Helper()
	r := c.post("/fhir", provideBundle(t, part{xml: xml, ref: fullRef(h)}).body)
	oo := expectOO(t, r, http.StatusUnprocessableEntity, code, "Bundle.entry[", rule)
	if !strings.Contains(oo.Issue[0].Diagnostics, cdaPath) {
		t.Errorf("diagnostics do not name %s: %s", cdaPath, oo.Issue[0].Diagnostics)
	}
	if g := c.get("/fhir/DocumentReference/" + h.ID); g.Status != http.StatusNotFound {
		t.Errorf("the refused document is readable: %v", g)
	}
}

// 4. A document signed with a certificate an imported CRL revokes is
// refused, even when the revocation came after the claimed signature time.
func testRevokedSignerRefused(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	rel := e.nextOf(org)
	var plan *gen.Doc
	for plan == nil || plan.Header.Author.ID.Extension == "" {
		plan = e.nextOf(org)
	}
	var prof *gen.Professional
	for _, p := range e.world.Professionals {
		if p.RegistrationNumber == plan.Header.Author.ID.Extension {
			prof = p
		}
	}
	doc, _ := cda.Read(plan.XML, cda.Options{})
	// Revoked an hour after the plan claims to have been signed. (Before
	// the first submission: the service reloads revocations every 5 s.)
	e.revoke(prof.Identity.Cert, doc.Signatures[0].Timestamp.Add(time.Hour))
	c.archive(rel) // signed by the organisation's system
	expectRefusedDoc(t, c, plan.Header, plan.XML, "security", xmldsig.RuleRevoked, "hl7fi:signature[1]/ds:Signature/ds:KeyInfo")
}

// 5. A system signature must be the custodian's or the submitter's.
func testSignerOfAnotherOrganisationRefused(t *testing.T) {
	e := newEnv(t)
	owner, stranger := e.world.Organisations[0], e.world.Organisations[1]
	c := e.as(owner)
	d := e.nextOf(owner)
	sys := stranger.System
	h, xml := resign(t, d, &xmldsig.Signer{Key: sys.Key, Cert: sys.Cert, Chain: sys.Chain, TypeCode: codes.SignatureSystem}, nil)
	expectRefusedDoc(t, c, h, xml, "security", archive.RuleSignerOrganisation, "hl7fi:signature[1]/ds:Signature/ds:KeyInfo")

	// A body signed for one client is not filed under another.
	other := e.nextOf(owner)
	sys = owner.System
	h, xml = resign(t, d, &xmldsig.Signer{Key: sys.Key, Cert: sys.Cert, Chain: sys.Chain, TypeCode: codes.SignatureSystem}, func(h *cda.Header) { h.Client = other.Header.Client })
	expectRefusedDoc(t, c, h, xml, "value", archive.RuleBodyClient, "/ClinicalDocument/recordTarget/patientRole/id")

	c.archive(d) // as generated
}

// A client certificate revoked by a CRL, or a system revoked, while its
// connection is open stops working on that very connection within the
// registry's reload interval (2 s), not only at the next handshake.
func testRevokedCertificateOnOpenConnection(t *testing.T) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	for _, tc := range []struct {
		name   string
		revoke func(name string, cert *x509.Certificate)
	}{
		{"CRL", func(_ string, cert *x509.Certificate) { e.revoke(cert, time.Now()) }},
		{"system revoked", func(name string, _ *x509.Certificate) {
			ctx := context.Background()
			if err := e.store.Update(ctx, func(tx archive.Tx) error { return tx.RevokeSystem(ctx, name, time.Now()) }); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "ats-e2e-open-" + strings.ReplaceAll(tc.name, " ", "-")
			id := issueClient(t, e.world.CA, org, name, time.Now().Add(-time.Hour), 24*time.Hour)
			e.register(org, name, id.Cert)
			c := e.asIdentity(org, id)
			get := func() (*resp, string) {
				t.Helper()
				var conn string
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conn = fmt.Sprintf("%s>%s", i.Conn.LocalAddr(), i.Conn.RemoteAddr()) }}
				req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, e.root+"/fhir/metadata", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+c.token())
				req.Header.Set("Accept", fhirapi.ContentFHIRJSON)
				res, err := c.client.Do(req)
				if err != nil {
					t.Fatalf("request: %v", err)
				}
				defer res.Body.Close()
				b, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				return &resp{Status: res.StatusCode, Header: res.Header, Body: b}, conn
			}
			// The registration takes effect within the registry's reload interval.
			var first string
			for until := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				r, conn := get()
				if r.Status == http.StatusOK {
					first = conn
					break
				}
				if time.Now().After(until) {
					t.Fatalf("before revocation: %v", r)
				}
			}
			tc.revoke(name, id.Cert)
			deadline := time.Now().Add(5 * time.Second)
			for {
				r, conn := get()
				if conn != first {
					t.Fatalf("the client opened a new connection (%s, first %s): the test must use the open one", conn, first)
				}
				if r.Status == http.StatusUnauthorized {
					oo := expectOO(t, r, http.StatusUnauthorized, "login", "certificate", "")
					if !strings.Contains(oo.Issue[0].Diagnostics, "revoked") {
						t.Errorf("the refusal does not say why: %s", oo.Issue[0].Diagnostics)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("a revoked certificate is still served on its open connection after 5 s: %v", r)
				}
				time.Sleep(100 * time.Millisecond)
			}
			// A new connection is refused too.
			r2, err := e.asIdentity(org, id).send(http.MethodGet, "/fhir/metadata", nil, "", "Bearer "+c.token())
			if err == nil && r2.Status != http.StatusUnauthorized {
				t.Errorf("a new connection with the revoked certificate: %v", r2)
			}
		})
	}
}

func TestRevokedSignerRefused(t *testing.T) { forEachBackend(t, testRevokedSignerRefused) }
func TestSignerOfAnotherOrganisationRefused(t *testing.T) {
	forEachBackend(t, testSignerOfAnotherOrganisationRefused)
}
func TestRevokedCertificateOnOpenConnection(t *testing.T) {
	forEachBackend(t, testRevokedCertificateOnOpenConnection)
}
