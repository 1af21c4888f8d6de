package xmldsig_test

import (
	"crypto/rsa"
	"testing"

	"github.com/arkisto/arkisto/internal/xmldsig"
)

// TestFloorInputs: the floor verifies the document's real signature, and
// fails on a changed SignedInfo or value, so the benchmark's floor does
// the whole public-key operation.
func TestFloorInputs(t *testing.T) {
	w := testWorld(t)
	in, err := xmldsig.FloorInputs(readDoc(t, w.sysDoc.XML))
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 1 {
		t.Fatalf("%d inputs, want the one system signature", len(in))
	}
	if k, ok := in[0].Public.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
		t.Fatalf("public key %T, want RSA-2048 as the archive's documents", in[0].Public)
	}
	if err := in[0].Verify(); err != nil {
		t.Fatalf("the document's own signature: %v", err)
	}
	si := append([]byte(nil), in[0].SignedInfo...)
	si[len(si)/2] ^= 1
	if err := (&xmldsig.FloorInput{Public: in[0].Public, Method: in[0].Method, SignedInfo: si, Value: in[0].Value}).Verify(); err == nil {
		t.Error("a changed SignedInfo verifies")
	}
	if _, err := xmldsig.FloorInputs(readDoc(t, []byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"/>`))); err == nil {
		t.Error("a document without signatures has floor inputs")
	}
}
