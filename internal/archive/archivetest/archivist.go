package archivetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/gen"
)

// archivistCaller is a person acting as an archivist of a controller
// through the archivist UI.
func archivistCaller(person, controller string) archive.Caller {
	return archive.Caller{System: archive.ArchivistSystem, Organisation: controller, Person: person, PersonName: "Arkisto Hoitaja", Purpose: archive.PurposeArchivist}
}

// testArchivist: an archivist logs in to the controllers it archives for,
// searches and reads only their registers, archives nothing, and a person
// who is no archivist, or acts for another controller, is refused; each
// attempt is in the access log.
func testArchivist(t *testing.T, e *Env) {
	ctx := context.Background()
	own, other := e.World.Organisations[0], e.World.Organisations[1]
	var mine, theirs []*archive.Record
	var otherDoc, ownDoc *gen.Doc
	for len(mine) < 6 || len(theirs) < 2 || ownDoc == nil {
		d := e.Next()
		switch d.Org {
		case own:
			mine = append(mine, e.Archive(d))
			if d.Header.Replaces == nil && d.Header.DocumentGroup.Code != "1" {
				ownDoc = d
			}
		case other:
			theirs = append(theirs, e.Archive(d))
			otherDoc = d
		}
	}
	const person, stranger = "20000000001", "20000000002"
	admin := archive.NewAdmin(e.Store, quiet)
	if err := admin.AddArchivist(ctx, &archive.Archivist{Person: person, Name: "Arkisto Hoitaja", Controller: own.ControllerOID()}); err != nil {
		t.Fatal(err)
	}
	login := archivistCaller(person, "")

	t.Run("login names the archivist's controllers", func(t *testing.T) {
		orgs, err := e.Service.ArchivistLogin(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		if len(orgs) != 1 || orgs[0].OID != own.ControllerOID() {
			t.Fatalf("controllers %+v, want only %s", orgs, own.ControllerOID())
		}
	})
	t.Run("a person who is no archivist is refused and logged", func(t *testing.T) {
		_, err := e.Service.ArchivistLogin(ctx, archivistCaller(stranger, ""))
		if !errors.Is(err, archive.ErrForbidden) {
			t.Fatalf("err = %v, want forbidden", err)
		}
		if !slices.ContainsFunc(e.AccessLog(""), func(a *archive.AccessEntry) bool {
			return a.Action == archive.ActionArchivistLogin && a.Caller.Person == stranger && a.Outcome == archive.OutcomeRefused
		}) {
			t.Error("the refused login is not in the access log")
		}
	})

	c := archivistCaller(person, own.ControllerOID())
	t.Run("search finds the own registers only, with a count", func(t *testing.T) {
		page, err := e.Service.Search(ctx, c, archive.Query{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, r := range page.Records {
			got = append(got, r.Header.ID)
		}
		for _, r := range mine {
			want = append(want, r.Header.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || page.Total != len(want) {
			t.Errorf("found %v (total %d), want %v", got, page.Total, want)
		}
	})
	t.Run("search by document id, and by the archiving system", func(t *testing.T) {
		for _, q := range []archive.Query{
			{DocumentIDs: []string{mine[1].Header.ID}},
			{DocumentIDs: []string{mine[1].Header.ID, theirs[0].Header.ID}},
			{SubmitterSystems: []string{own.SystemName}, SetIDs: []string{mine[1].Header.SetID}},
		} {
			page, err := e.Service.Search(ctx, c, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Records) != 1 || page.Records[0].Header.ID != mine[1].Header.ID {
				t.Errorf("query %+v: %d records, want only %s", q, len(page.Records), mine[1].Header.ID)
			}
		}
		page, err := e.Service.Search(ctx, c, archive.Query{SubmitterSystems: []string{other.SystemName}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 0 || page.Total != 0 {
			t.Errorf("another system's documents in the own registers: %d, total %d", len(page.Records), page.Total)
		}
	})
	t.Run("reads the own registers, not others'", func(t *testing.T) {
		if _, err := e.Service.Metadata(ctx, c, mine[0].Header.ID); err != nil {
			t.Errorf("own document: %v", err)
		}
		if _, err := e.Service.Metadata(ctx, c, theirs[0].Header.ID); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("another controller's document: err = %v, want not found", err)
		}
	})
	t.Run("sees no will expressions", func(t *testing.T) {
		if _, err := e.Service.Wills(ctx, c, mine[0].ClientKey()); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("a client's will expressions: err = %v, want forbidden", err)
		}
	})
	t.Run("archives nothing", func(t *testing.T) {
		d := e.Next()
		for d.Org != own {
			d = e.Next()
		}
		if _, err := e.Service.Archive(ctx, c, d.XML); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("archive as an archivist: err = %v, want forbidden", err)
		}
	})
	t.Run("acting for a controller it does not archive for is refused", func(t *testing.T) {
		intruder := archivistCaller(person, other.ControllerOID())
		if _, err := e.Service.Search(ctx, intruder, archive.Query{}); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("search: err = %v, want forbidden", err)
		}
		if err := e.Service.View(ctx, intruder, "documents"); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("view: err = %v, want forbidden", err)
		}
		if _, err := e.Service.Metadata(ctx, intruder, otherDoc.Header.ID); err == nil {
			t.Error("read another controller's document")
		}
		// Another purpose than the archivist's gives no archivist rights.
		notArchivist := c
		notArchivist.Person = stranger
		if _, err := e.Service.Search(ctx, notArchivist, archive.Query{}); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("a person who is no archivist: err = %v, want forbidden", err)
		}
	})
	t.Run("page views and searches are the archivist's use in the log", func(t *testing.T) {
		if err := e.Service.View(ctx, c, "documents"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Service.Search(ctx, c, archive.Query{ClientKey: mine[0].ClientKey()}); err != nil {
			t.Fatal(err)
		}
		isArchivist := func(a *archive.AccessEntry) bool {
			return a.Caller.Person == person && a.Caller.Purpose == archive.PurposeArchivist && a.Caller.Organisation == own.ControllerOID() && a.Outcome == archive.OutcomeAllowed
		}
		if !slices.ContainsFunc(e.AccessLog(""), func(a *archive.AccessEntry) bool {
			return isArchivist(a) && a.Action == archive.ActionView && a.Details == "documents"
		}) {
			t.Error("the page view is not in the access log")
		}
		if !slices.ContainsFunc(e.AccessLog(mine[0].ClientKey()), func(a *archive.AccessEntry) bool {
			return isArchivist(a) && a.Action == archive.ActionSearch
		}) {
			t.Error("the search is not in the client's access log")
		}
	})
	t.Run("nullifies in the own registers, recorded as the nullifier", func(t *testing.T) {
		target := mine[2]
		rec, err := e.Service.Nullify(ctx, c, target.Header.ID, "wrong-client", "Kirjattu väärälle asiakkaalle")
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status != archive.StatusNullified || rec.Nullification == nil || rec.Nullification.By.Person != person ||
			rec.Nullification.By.Purpose != archive.PurposeArchivist || rec.Nullification.By.Organisation != own.ControllerOID() {
			t.Fatalf("nullified record %+v, nullification %+v", rec.Status, rec.Nullification)
		}
		again, err := e.Service.Metadata(ctx, c, target.Header.ID)
		if err != nil {
			t.Fatal(err)
		}
		if again.Status != archive.StatusNullified || again.Nullification == nil || again.Nullification.By.Person != person || again.Nullification.ReasonCode != "wrong-client" {
			t.Errorf("stored: status %s, nullification %+v", again.Status, again.Nullification)
		}
		if !slices.ContainsFunc(e.AccessLog(target.ClientKey()), func(a *archive.AccessEntry) bool {
			return a.Action == archive.ActionNullify && a.Caller.Person == person && a.Caller.Purpose == archive.PurposeArchivist && a.Outcome == archive.OutcomeAllowed && slices.Contains(a.Documents, target.Header.ID)
		}) {
			t.Error("the nullification is not in the client's access log as the archivist's")
		}
		if _, err := e.Service.Nullify(ctx, c, target.Header.ID, "wrong-client", "again"); !errors.Is(err, archive.ErrConflict) {
			t.Errorf("a second nullification: err = %v, want conflict", err)
		}
		if _, err := e.Service.Nullify(ctx, c, mine[3].Header.ID, "", "no code"); !errors.Is(err, archive.ErrInvalid) {
			t.Errorf("no reason code: err = %v, want invalid", err)
		}
	})
	t.Run("nullifies nothing in another controller's registers", func(t *testing.T) {
		if _, err := e.Service.Nullify(ctx, c, theirs[0].Header.ID, "wrong-client", "not mine"); !errors.Is(err, archive.ErrNotFound) {
			t.Errorf("another controller's version: err = %v, want not found", err)
		}
		intruder := archivistCaller(person, other.ControllerOID())
		if _, err := e.Service.Nullify(ctx, intruder, theirs[1].Header.ID, "wrong-client", "not mine"); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("acting for a controller it does not archive for: err = %v, want forbidden", err)
		}
		for _, r := range theirs[:2] {
			got, err := e.Service.Metadata(ctx, archive.Caller{System: other.SystemName, Organisation: other.ControllerOID(), Purpose: "1"}, r.Header.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == archive.StatusNullified {
				t.Errorf("%s was nullified by another controller's archivist", r.Header.ID)
			}
		}
		stranger := archivistCaller(stranger, own.ControllerOID())
		if _, err := e.Service.Nullify(ctx, stranger, mine[4].Header.ID, "wrong-client", "not an archivist"); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("a person who is no archivist: err = %v, want forbidden", err)
		}
	})
	t.Run("an archivist corrects nothing", func(t *testing.T) {
		raw := e.Replacement(ownDoc, ownDoc.Header.ID+".2", nil)
		if _, err := e.Service.Archive(ctx, c, raw); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("a correction by an archivist: err = %v, want forbidden", err)
		}
	})
	t.Run("a removed archivist is refused at once", func(t *testing.T) {
		if _, err := admin.RemoveArchivist(ctx, person, own.ControllerOID()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Service.Search(ctx, c, archive.Query{}); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("search after removal: err = %v, want forbidden", err)
		}
		if _, err := e.Service.ArchivistLogin(ctx, login); !errors.Is(err, archive.ErrForbidden) {
			t.Errorf("login after removal: err = %v, want forbidden", err)
		}
	})
}
