package archive_test

import (
	"context"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/store/sqlite"
)

// TestUnknownCallerOrganisation: a caller whose organisation is not
// onboarded gets nothing, whatever it asks (the FHIR door cannot even
// authenticate such a caller: a system is registered to an organisation).
func TestUnknownCallerOrganisation(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := archive.Caller{System: "s", Organisation: "1.2.246.10.9999999.10.0", Purpose: "1"}
	h := &cda.Header{Custodian: cda.Organisation{OID: c.Organisation}}
	r := &archive.Record{Header: *h}
	st.View(ctx, func(tx archive.Tx) error {
		p := archive.Rules{}
		for _, d := range []archive.Decision{p.Write(ctx, tx, c, h), p.Read(ctx, tx, c, r)} {
			if d.Allowed || !strings.Contains(d.Reason, "not onboarded") {
				t.Errorf("unknown caller: %+v", d)
			}
		}
		if _, d := p.Scope(ctx, tx, c, ""); d.Allowed {
			t.Errorf("unknown caller's search: %+v", d)
		}
		return nil
	})
}
