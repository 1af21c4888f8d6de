package archivetest

import (
	"context"
	"slices"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/gen"
)

// testScopeAgreesWithAllows: a store's search within a scope finds exactly
// the records archive.Scope.Allows admits. The scope predicate is written
// twice, in Go for single records and in SQL (internal/store/sqlstore) for
// searches; this keeps the two one rule. The scopes are made of the
// archived records themselves, so that each clause of the predicate (own
// register, a grant's service task, a grant's client relationship, and a
// nullified document under a grant) has documents it admits and ones it
// does not.
func testScopeAgreesWithAllows(t *testing.T, e *Env) {
	ctx := context.Background()
	var recs []*archive.Record
	var first *gen.Doc
	for i := range 12 {
		d := e.Next()
		if i == 0 {
			first = d
		}
		recs = append(recs, e.Archive(d))
	}
	// One nullified: a grant no longer shows it, its own register does.
	if _, err := e.Service.Nullify(ctx, Caller(first.Org), recs[0].Header.ID, "wrong-client", "Väärä asiakas"); err != nil {
		t.Fatal(err)
	}
	grant := func(r *archive.Record, task, rel string) archive.Grant {
		return archive.Grant{ClientKey: r.ClientKey(), Organiser: r.Controller, ServiceTask: task, RelationshipID: rel}
	}
	var scopes []archive.Scope
	for i, r := range recs {
		other := recs[(i+1)%len(recs)]
		scopes = append(scopes,
			archive.Scope{Controllers: []string{r.Controller}},
			archive.Scope{Controllers: []string{r.Controller, other.Controller}},
			archive.Scope{Grants: []archive.Grant{grant(r, r.Header.ServiceTask.Code, "")}},
			archive.Scope{Grants: []archive.Grant{grant(r, "none", r.Header.ClientRelationshipID)}},
			archive.Scope{Controllers: []string{other.Controller}, Grants: []archive.Grant{grant(r, r.Header.ServiceTask.Code, r.Header.ClientRelationshipID), grant(other, "none", "none")}},
		)
	}
	all := []archive.Status{archive.StatusCurrent, archive.StatusSuperseded, archive.StatusNullified}
	err := e.Store.View(ctx, func(tx archive.Tx) error {
		stored, err := tx.ScanDocuments(ctx, "", 1000)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			var want []string
			for _, r := range stored {
				if sc.Allows(r) {
					want = append(want, r.Header.ID)
				}
			}
			for _, q := range []archive.Query{{Limit: 1000, Statuses: all}, {ClientKey: recs[0].ClientKey(), Limit: 1000, Statuses: all}} {
				found, err := tx.Search(ctx, q, sc)
				if err != nil {
					return err
				}
				var got []string
				for _, r := range found {
					got = append(got, r.Header.ID)
				}
				w := want
				if q.ClientKey != "" {
					w = slices.DeleteFunc(slices.Clone(want), func(id string) bool {
						return !slices.ContainsFunc(stored, func(r *archive.Record) bool { return r.Header.ID == id && r.ClientKey() == q.ClientKey })
					})
				}
				slices.Sort(got)
				slices.Sort(w)
				if !slices.Equal(got, w) {
					t.Errorf("scope %+v, query for client %q: search finds %v, Scope.Allows admits %v", sc, q.ClientKey, got, w)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
