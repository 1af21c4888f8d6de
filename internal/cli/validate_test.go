package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/relationship"
	"github.com/arkisto/arkisto/internal/storetest"
	"github.com/arkisto/arkisto/internal/xmldsig"
	"github.com/arkisto/arkisto/internal/xmlsafe"
)

// wrongRelationship is a client relationship document whose signed
// structured form names another relationship than its header: well-formed,
// validly signed, bound to its client and organiser, and refused by the
// archive (RELATIONSHIP_ID).
func wrongRelationship(t *testing.T) (*gen.PKI, *gen.Doc, []byte) {
	t.Helper()
	w, err := gen.NewPKI(gen.PKIOptions{Organisations: 2, ProfessionalsPerOrg: 1, KeyType: "p256"})
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(w, gen.Options{Clients: 1})
	d, err := g.Next()
	if err != nil {
		t.Fatal(err)
	}
	if d.Header.DocumentGroup.Code != codes.GroupClientRelationship {
		t.Fatal("fixture: the first generated document is no client relationship document")
	}
	doc, probs := cda.Read(d.XML, cda.Options{})
	if doc == nil || len(probs) > 0 {
		t.Fatalf("fixture: %v", probs)
	}
	h := doc.Header
	h.Signatures = nil
	h.ClientRelationshipID += "9" // the structured form still names the old one
	o := d.Org
	signer := &xmldsig.Signer{Key: o.System.Key, Cert: o.System.Cert, Chain: o.System.Chain, TypeCode: codes.SignatureSystem, Enveloped: true}
	raw, err := gen.Render(&h, doc.Body, signer, false)
	if err != nil {
		t.Fatal(err)
	}
	return w, d, raw
}

// validate accepts what the archive accepts: a client relationship
// document whose structured form is wrong is refused by both, with the
// same rule, and a good document is accepted by both.
func TestValidateAgreesWithTheArchive(t *testing.T) {
	dir := t.TempDir()
	w, good, bad := wrongRelationship(t)
	ca := filepath.Join(dir, "ca")
	if err := w.CA.Save(ca); err != nil {
		t.Fatal(err)
	}
	badFile, goodFile := filepath.Join(dir, "bad.xml"), filepath.Join(dir, "good.xml")
	os.WriteFile(badFile, bad, 0o644)
	os.WriteFile(goodFile, good.XML, 0o644)

	code, out, _ := run(t, "--data", dir, "validate", "--trust-ca", ca+".crt", badFile)
	if code != 1 || !strings.Contains(out, "NOT ACCEPTABLE") || !strings.Contains(out, relationship.RuleID) {
		t.Errorf("validate of a relationship document whose structured form names another relationship: exit %d\n%s", code, out)
	}
	if code, out, _ := run(t, "--data", dir, "validate", "--trust-ca", ca+".crt", goodFile); code != 0 {
		t.Errorf("validate of the good document: exit %d\n%s", code, out)
	}

	// The archive, on the same documents, on every backend.
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		st := b.Open(t)
		if err := archive.NewAdmin(st, slog.New(slog.DiscardHandler)).Apply(ctx, w.Setup(true)); err != nil {
			t.Fatal(err)
		}
		svc := archive.NewService(st, archive.Rules{}, archive.Config{}, slog.New(slog.DiscardHandler))
		c := archive.Caller{System: good.Org.SystemName, Organisation: good.Org.ControllerOID(), Person: "10000000001", Unit: good.Org.Units[1].OID, Purpose: codes.UsageOwnRegister}
		var ae *archive.Error
		if _, err := svc.Archive(ctx, c, bad); !errors.As(err, &ae) || !ae.Problems.Has(relationship.RuleID) {
			t.Errorf("the archive on the same document: %v", err)
		}
		if _, err := svc.Archive(ctx, c, good.XML); err != nil {
			t.Errorf("the archive on the good document: %v", err)
		}
	})
}

// A file that cannot be read, a directory, a file that is not XML: each
// says what it is, never a rule about XML it does not break.
func TestValidateFilesAndDirectories(t *testing.T) {
	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	os.WriteFile(readme, []byte("# arkisto\n\nA national client data archive &nbsp; for social welfare.\n"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	docs := filepath.Join(dir, "docs", "sub")
	os.MkdirAll(docs, 0o755)
	raw, err := os.ReadFile(samples + "asiakkuusasiakirja_S.xml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(docs, "a.xml"), raw, 0o644)
	os.WriteFile(filepath.Join(docs, "notes.txt"), []byte("not a document"), 0o644)

	for _, tc := range []struct {
		arg        string
		code       int
		want, none []string
	}{
		{filepath.Join(dir, "nosuch.xml"), 1, []string{"cannot read " + filepath.Join(dir, "nosuch.xml") + ": no such file or directory"}, []string{xmlsafe.RuleTooLarge}},
		{empty, 1, []string{"is a directory without .xml files"}, []string{xmlsafe.RuleTooLarge}},
		{readme, 1, []string{xmlsafe.RuleMalformed, "not XML"}, []string{xmlsafe.RuleEntity}},
		{filepath.Join(dir, "docs"), 0, []string{filepath.Join(docs, "a.xml") + ": ACCEPTABLE"}, []string{"notes.txt"}},
	} {
		code, out, _ := run(t, "--data", dir, "validate", tc.arg)
		if code != tc.code {
			t.Errorf("validate %s: exit %d, want %d\n%s", tc.arg, code, tc.code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("validate %s: output lacks %q\n%s", tc.arg, w, out)
			}
		}
		for _, n := range tc.none {
			if strings.Contains(out, n) {
				t.Errorf("validate %s: output has %q\n%s", tc.arg, n, out)
			}
		}
	}
}

// A document without a header effectiveTime: one error line, and no date
// made up for it in the summary.
func TestValidateMissingEffectiveTime(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(samples + "asia_ja_rajoitukset_S.xml")
	if err != nil {
		t.Fatal(err)
	}
	noEff := bytes.Replace(raw, []byte(`<effectiveTime value="20260323105424+0200"/>`), nil, 1)
	if bytes.Equal(noEff, raw) {
		t.Fatal("fixture: the sample's effectiveTime was not found")
	}
	f := filepath.Join(dir, "noeff.xml")
	os.WriteFile(f, noEff, 0o644)
	code, out, _ := run(t, "--data", dir, "validate", f)
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if n := strings.Count(out, "error "+cda.RuleRequired+" at /ClinicalDocument/effectiveTime"); n != 1 {
		t.Errorf("%d error lines for the missing effectiveTime, want 1\n%s", n, out)
	}
	if strings.Contains(out, "0001-01-01") {
		t.Errorf("the summary invents a date\n%s", out)
	}
}

// --json masks the identity code and leaves out the client's name as the
// text does; --show-identity shows them in both.
func TestValidateMasksIdentityInJSON(t *testing.T) {
	dir := t.TempDir()
	f := samples + "asiakkuusasiakirja_S.xml"
	const full = "200111A904P"
	for _, tc := range []struct {
		args []string
		show bool
	}{
		{[]string{"validate", f}, false},
		{[]string{"validate", "--json", f}, false},
		{[]string{"validate", "--show-identity", f}, true},
		{[]string{"validate", "--json", "--show-identity", f}, true},
	} {
		code, out, _ := run(t, append([]string{"--data", dir}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", tc.args, code, out)
		}
		if strings.Contains(out, full) != tc.show {
			t.Errorf("%v: full identity code shown %v, want %v\n%s", tc.args, !tc.show, tc.show, out)
		}
		if !strings.Contains(out, full[:7]) {
			t.Errorf("%v: not even the masked identity code\n%s", tc.args, out)
		}
		if named := strings.Contains(out, "Kanta-Jade"); named != tc.show {
			t.Errorf("%v: client's name shown %v, want %v\n%s", tc.args, named, tc.show, out)
		}
	}
	_, out, _ := run(t, "--data", dir, "validate", "--json", f)
	var res []map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
		t.Fatalf("--json: %v\n%s", err, out)
	}
}
