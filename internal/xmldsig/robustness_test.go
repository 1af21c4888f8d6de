package xmldsig_test

// Cost: the verifier must not be made to canonicalise a large body once
// per signature.

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// A document with one signature and a body of some megabytes, then the
// same with a hundred more signatures over the same body (each pointing
// at its own timestamp, so that every one is fully checked). Before the
// digests were shared within a Verify call, each signature canonicalised
// the body once or twice: an 8 MB document with 300 such signatures took a
// minute of CPU. Now the cost of the extra signatures must stay small
// next to the cost of the body.
func TestManySignaturesOverLargeBody(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	w := testWorld(t)
	body := w.sysBody
	body.Structured = make([]byte, 3<<20)
	if _, err := rand.Read(body.Structured); err != nil {
		t.Fatal(err)
	}
	b := cda.Build(w.sysDoc.Header, body, true)
	first := handSign(t, b, spec{Signer: w.system})
	one := readDoc(t, serialise(t, b))

	const extra = 100
	for i := 0; i < extra; i++ {
		c := first.Sig.Copy()
		c.RemoveAttr("ID")
		c.CreateAttr("ID", fmt.Sprintf("copy-%d", i))
		ts := must(t, c, "signatureTimestamp")
		ts.RemoveAttr("ID")
		ts.CreateAttr("ID", fmt.Sprintf("ts-%d", i))
		for _, r := range c.FindElements("Signature/SignedInfo/Reference") {
			if r.SelectAttrValue("URI", "") == "#CDA-timestamp.sig-1" {
				r.RemoveAttr("URI")
				r.CreateAttr("URI", fmt.Sprintf("#ts-%d", i))
			}
		}
		b.Collection.AddChild(c)
	}
	many := readDoc(t, serialise(t, b))

	v := w.verifier()
	timed := func(d *cda.Document) (*xmldsig.Report, time.Duration) {
		best := time.Duration(1 << 62)
		var rep *xmldsig.Report
		for i := 0; i < 3; i++ {
			start := time.Now()
			rep = v.Verify(d)
			if el := time.Since(start); el < best {
				best = el
			}
		}
		return rep, best
	}
	rep1, t1 := timed(one)
	wantAccepted(t, rep1)
	repN, tN := timed(many)
	if len(repN.Signatures) != extra+1 || !repN.Signatures[0].Valid {
		t.Fatalf("%d signatures, first valid %v", len(repN.Signatures), repN.Signatures[0].Valid)
	}
	for i, r := range repN.Signatures[1:] {
		if r.Valid || !sigHas(repN, i+1, xmldsig.RuleDigest, "ds:Reference[2]/ds:DigestValue") {
			t.Fatalf("copy %d: %v", i, r.Problems)
		}
	}
	t.Logf("one signature %s, %d signatures %s", t1, extra+1, tN)
	if tN > 20*t1 {
		t.Errorf("%d signatures over one body cost %s, one costs %s: the body is canonicalised per signature", extra+1, tN, t1)
	}
}
