package backup_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/backup"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/consent"
	"github.com/arkisto/arkisto/internal/store/sqlite"
	"github.com/arkisto/arkisto/internal/storetest"
)

// snapshot is what a store holds: every version with its status and bytes.
type snapshot map[string]struct {
	status archive.Status
	sum    string
	null   string
}

func contents(t *testing.T, st archive.Store) snapshot {
	t.Helper()
	ctx := context.Background()
	out := snapshot{}
	err := st.View(ctx, func(tx archive.Tx) error {
		recs, err := tx.ScanDocuments(ctx, "", 100000)
		for _, r := range recs {
			data, err := tx.Content(ctx, r)
			if err != nil {
				return err
			}
			v := out[r.Header.ID]
			v.status, v.sum = r.Status, blob.Sum(data)
			if r.Nullification != nil {
				v.null = r.Nullification.ReasonCode + "/" + r.Nullification.ReasonText
			}
			out[r.Header.ID] = v
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rels renders a store's client relationships and registers for comparison.
func rels(t *testing.T, st archive.Store) string {
	t.Helper()
	ctx := context.Background()
	var b bytes.Buffer
	err := st.View(ctx, func(tx archive.Tx) error {
		rs, err := tx.ScanRelationships(ctx, archive.RelationshipKey{}, 100000)
		if err != nil {
			return err
		}
		regs, err := tx.Registers(ctx)
		if err != nil {
			return err
		}
		for _, r := range regs {
			r.AddedAt = time.Time{} // restore stamps its own time
		}
		return json.NewEncoder(&b).Encode([]any{rs, regs})
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// wills renders a store's will expressions, with their withdrawals, and
// its disclosure log, ids and all, for comparison.
func wills(t *testing.T, st archive.Store) string {
	t.Helper()
	ctx := context.Background()
	var b bytes.Buffer
	err := st.View(ctx, func(tx archive.Tx) error {
		ws, err := tx.ScanWills(ctx, "", 100000)
		if err != nil {
			return err
		}
		ds, err := tx.ScanDisclosures(ctx, 0, 100000)
		if err != nil {
			return err
		}
		return json.NewEncoder(&b).Encode([]any{ws, ds})
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// submissionSets renders a store's submission sets for comparison.
func submissionSets(t *testing.T, st archive.Store) string {
	t.Helper()
	ctx := context.Background()
	var b bytes.Buffer
	err := st.View(ctx, func(tx archive.Tx) error {
		sets, err := tx.ScanSubmissionSets(ctx, "", 100000)
		if err != nil {
			return err
		}
		return json.NewEncoder(&b).Encode(sets)
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// putWills records will expressions, one withdrawn, and a disclosure log
// whose ids have a gap (a restored entry among appended ones), so that a
// restore that renumbered them would show.
func putWills(t *testing.T, st archive.Store, clientKey string) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)
	by := consent.Recorder{Role: consent.RoleClient, Person: "010180-9026", Name: "Testi Asiakas"}
	notice := &consent.Expression{ID: "will-1", ClientKey: clientKey, Kind: consent.KindNotice, RecordedAt: at, Recorder: by}
	cons := &consent.Expression{ID: "will-2", ClientKey: clientKey, Kind: consent.KindConsent, RecordedAt: at.Add(time.Hour), From: at.Truncate(24 * time.Hour), Recorder: by}
	prohib := &consent.Expression{ID: "will-3", ClientKey: clientKey, Kind: consent.KindProhibition, RecordedAt: at.Add(2 * time.Hour), Recorder: by,
		Target: &consent.Target{Kind: consent.TargetServiceTask, Value: "03"}}
	disclosure := func(id int64) *archive.Disclosure {
		return &archive.Disclosure{ID: id, At: at, DisclosedAt: at, Source: archive.SourceArchive, ClientKey: clientKey, Discloser: "1.2.246.10.1111111",
			Recipient: "1.2.246.10.2222222", Caller: archive.Caller{System: "ats", Organisation: "1.2.246.10.2222222", Purpose: archive.PurposeDisclosure},
			Documents: []archive.DisclosedDocument{{ID: "1.2.3.4", SetID: "1.2.3", ServiceTasks: []string{"03"}}}, GroundKind: archive.GroundConsent, Ground: "will-2"}
	}
	err := st.Update(ctx, func(tx archive.Tx) error {
		for _, e := range []*consent.Expression{notice, cons, prohib} {
			if err := tx.PutWill(ctx, e); err != nil {
				return err
			}
		}
		if _, err := tx.WithdrawWill(ctx, "will-3", consent.Withdrawal{At: at.Add(3 * time.Hour), By: by}); err != nil {
			return err
		}
		for range 2 {
			if err := tx.AppendDisclosure(ctx, disclosure(0)); err != nil {
				return err
			}
		}
		if err := tx.RestoreDisclosure(ctx, disclosure(40)); err != nil {
			return err
		}
		return tx.AppendDisclosure(ctx, disclosure(0))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// putGuardianships records a guardianship in force and an ended one.
func putGuardianships(t *testing.T, st archive.Store) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)
	err := st.Update(ctx, func(tx archive.Tx) error {
		for _, g := range []*archive.Guardianship{
			{Guardian: "010180-9026", Child: "150316A904C", ChildName: "Testi Lapsi", From: at},
			{Guardian: "120484-952B", Child: "150316A904C", From: at},
		} {
			if err := tx.PutGuardianship(ctx, g); err != nil {
				return err
			}
		}
		_, err := tx.EndGuardianship(ctx, "120484-952B", "150316A904C", at.Add(time.Hour))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// guardianships renders a store's guardianships without their ids, which
// a restore gives anew.
func guardianships(t *testing.T, st archive.Store) string {
	t.Helper()
	ctx := context.Background()
	var b bytes.Buffer
	err := st.View(ctx, func(tx archive.Tx) error {
		gs, err := tx.Guardianships(ctx, archive.GuardianshipQuery{})
		for _, g := range gs {
			g.ID = 0
		}
		if err != nil {
			return err
		}
		return json.NewEncoder(&b).Encode(gs)
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestBackupRestoreEveryBackend archives documents on each backend, backs
// up while a writer keeps archiving, restores into a fresh store of every
// backend, and checks that the restore holds exactly the snapshot.
func TestBackupRestoreEveryBackend(t *testing.T) {
	backends := storetest.Backends(t)
	for _, src := range backends {
		t.Run(src.Name, func(t *testing.T) {
			ctx := context.Background()
			e := archivetest.NewEnv(t, func(t *testing.T) archive.Store { return src.Open(t) })
			var first *archive.Record
			for i := 0; i < 12; i++ {
				d := e.Next()
				// Each with its submission set, which travels too.
				res, _, err := e.Service.Provide(ctx, archivetest.Caller(d.Org), [][]byte{d.XML}, nil,
					archive.SubmissionSetMeta{UniqueID: fmt.Sprintf("urn:oid:1.2.3.%d", i), SourceID: "urn:oid:" + d.Org.OID, Date: time.Now()})
				if err != nil {
					t.Fatal(err)
				}
				r := res[0].Record
				if first == nil && r.Header.DocumentGroup.Code == "5" {
					first = r
					// A correction and a nullification travel too.
					if _, err := e.Service.Archive(ctx, archivetest.Caller(d.Org), e.Replacement(d, d.Header.ID+".2", nil)); err != nil {
						t.Fatal(err)
					}
					if _, err := e.Service.Nullify(ctx, archivetest.Caller(d.Org), d.Header.ID+".2", "wrong", "Väärä asiakas"); err != nil {
						t.Fatal(err)
					}
				}
			}
			putWills(t, e.Store, first.ClientKey())
			putGuardianships(t, e.Store)
			// Keep writing while the backup runs.
			var stop atomic.Bool
			var wg sync.WaitGroup
			var written atomic.Int64
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					d := e.Next()
					if _, err := e.Service.Archive(ctx, archivetest.Caller(d.Org), d.XML); err != nil {
						t.Errorf("concurrent archive: %v", err)
						return
					}
					written.Add(1)
				}
			}()
			dir := filepath.Join(t.TempDir(), "backup")
			m, err := backup.Backup(ctx, e.Store, src.Name, dir, nil)
			stop.Store(true)
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if m.Counts["documents"] < 13 || m.Counts["access_log"] < m.Counts["documents"] || m.Counts["wills"] != 3 || m.Counts["disclosures"] != 4 || m.Counts["submission_sets"] != 12 || m.Counts["guardianships"] != 2 {
				t.Fatalf("manifest counts %v", m.Counts)
			}
			// The backup is a snapshot: every document in it has the log
			// entry of its archiving, which Verify checks after restore.
			for _, dst := range backends {
				t.Run("into "+dst.Name, func(t *testing.T) {
					target := dst.Open(t)
					if _, err := backup.Restore(ctx, dir, target, nil); err != nil {
						t.Fatal(err)
					}
					got := contents(t, target)
					if len(got) != m.Counts["documents"] {
						t.Fatalf("restored %d documents, the backup has %d", len(got), m.Counts["documents"])
					}
					src := contents(t, e.Store)
					for id, v := range got {
						if s, ok := src[id]; !ok || s != v {
							t.Errorf("document %s restored as %+v, source has %+v", id, v, s)
						}
					}
					if rels(t, target) != rels(t, e.Store) || m.Counts["relationships"] == 0 || m.Counts["registers"] == 0 {
						t.Errorf("relationships or registers differ after restore (%d relationships, %d registers backed up)", m.Counts["relationships"], m.Counts["registers"])
					}
					if s, want := submissionSets(t, target), submissionSets(t, e.Store); s != want {
						t.Errorf("submission sets differ after restore:\n%s\nsource:\n%s", s, want)
					}
					if w, want := wills(t, target), wills(t, e.Store); w != want {
						t.Errorf("will expressions or the disclosure log differ after restore:\n%s\nsource:\n%s", w, want)
					}
					if g, want := guardianships(t, target), guardianships(t, e.Store); g != want {
						t.Errorf("guardianships differ after restore:\n%s\nsource:\n%s", g, want)
					}
					if got[first.Header.ID].status != archive.StatusSuperseded || got[first.Header.ID+".2"].null != "wrong/Väärä asiakas" {
						t.Errorf("correction or nullification lost: %+v %+v", got[first.Header.ID], got[first.Header.ID+".2"])
					}
					rep, err := backup.Verify(ctx, target, nil)
					if err != nil || !rep.OK() {
						t.Fatalf("verify after restore: %v %+v", err, rep)
					}
					if rep.Wills != 3 || rep.Disclosures != 4 {
						t.Errorf("verify read %d will expressions and %d disclosures, want 3 and 4", rep.Wills, rep.Disclosures)
					}
					if rep.LogEntries != m.Counts["access_log"] {
						t.Errorf("%d log entries restored, %d backed up", rep.LogEntries, m.Counts["access_log"])
					}
					// The restored archive works: it can be read and written.
					if _, err := backup.Restore(ctx, dir, target, nil); err == nil || !strings.Contains(err.Error(), "empty") {
						t.Errorf("restore into a non-empty archive: %v", err)
					}
				})
			}
			t.Logf("%d documents backed up while %d more were archived", m.Counts["documents"], written.Load())
		})
	}
}

func TestBackupRefusals(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), []byte("x"), 0o600)
	if _, err := backup.Backup(ctx, st, "sqlite", full, nil); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("backup into a non-empty directory: %v", err)
	}
	if _, err := backup.Restore(ctx, t.TempDir(), st, nil); err == nil || !strings.Contains(err.Error(), "no complete backup") {
		t.Errorf("restore of an incomplete backup: %v", err)
	}
}

// TestVerifyFindsDamage corrupts content behind the archive's back.
func TestVerifyFindsDamage(t *testing.T) {
	ctx := context.Background()
	filesDir, dataDir := t.TempDir(), t.TempDir()
	var fb *blob.Files
	e := archivetest.NewEnv(t, func(t *testing.T) archive.Store {
		var err error
		fb, err = blob.OpenFiles(filesDir)
		if err != nil {
			t.Fatal(err)
		}
		st, err := sqlite.Open(ctx, dataDir, sqlite.Options{Blobs: fb})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
	var recs []*archive.Record
	for i := 0; i < 6; i++ {
		recs = append(recs, e.Archive(e.Next()))
	}
	if rep, err := backup.Verify(ctx, e.Store, nil); err != nil || !rep.OK() || rep.Documents != 6 {
		t.Fatalf("clean archive: %v %+v", err, rep)
	}
	// One blob corrupted, one missing.
	s0, s1 := recs[0].SHA256, recs[1].SHA256
	os.WriteFile(filepath.Join(filesDir, s0[:2], s0[2:4], s0), []byte("tampered"), 0o600)
	os.Remove(filepath.Join(filesDir, s1[:2], s1[2:4], s1))
	// And one log entry lost.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM access_log WHERE documents LIKE ?`, `%"`+recs[2].Header.ID+`"%`); err != nil {
		t.Fatal(err)
	}
	// And one record pointing at another document's (intact) bytes.
	if _, err := db.Exec(`UPDATE documents SET record_json = json_set(record_json, '$.sha256', ?), content_sha256 = ? WHERE doc_id = ?`,
		recs[4].SHA256, recs[4].SHA256, recs[3].Header.ID); err != nil {
		t.Fatal(err)
	}
	// And one record that no longer decodes.
	if _, err := db.Exec(`UPDATE documents SET record_json = '{"header": 1' WHERE doc_id = ?`, recs[5].Header.ID); err != nil {
		t.Fatal(err)
	}
	db.Close()
	rep, err := backup.Verify(ctx, e.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	for _, f := range rep.Findings {
		text.WriteString(f.Document + ": " + f.Problem + "\n")
	}
	for _, want := range []string{recs[0].Header.ID + ": content: blob is corrupt", recs[1].Header.ID + ": content: blob is missing", recs[2].Header.ID + ": no access-log entry",
		recs[3].Header.ID + ": content: blob is corrupt: content " + recs[4].SHA256 + " is document " + recs[4].Header.ID + ", not document " + recs[3].Header.ID,
		recs[5].Header.ID + ": record: decode stored record"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("findings lack %q:\n%s", want, text.String())
		}
	}
	if len(rep.Findings) != 5 || rep.Documents != 6 {
		t.Errorf("%d findings in %d documents, want 5 in 6 (every document checked):\n%s", len(rep.Findings), rep.Documents, text.String())
	}
}

// failingStore hands out an organisation that cannot be written (JSON has
// no year 10000), as a full disk or a broken record would fail a write.
type failingStore struct{ archive.Store }

type failingTx struct{ archive.Tx }

func (s failingStore) View(ctx context.Context, fn func(archive.Tx) error) error {
	return s.Store.View(ctx, func(tx archive.Tx) error { return fn(failingTx{tx}) })
}

func (tx failingTx) Organisations(ctx context.Context) ([]*archive.Organisation, error) {
	return []*archive.Organisation{{OID: "1.2.3", Name: "x", Kind: archive.KindPublic, AddedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, nil
}

// TestBackupWriteFails: a line that cannot be written fails the backup,
// which then has no manifest, rather than completing without the line.
func TestBackupWriteFails(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir := filepath.Join(t.TempDir(), "b")
	if _, err := backup.Backup(ctx, failingStore{st}, "test", dir, nil); err == nil || !strings.Contains(err.Error(), "organisations.jsonl") {
		t.Fatalf("backup with an unwritable organisation: %v, want an error naming organisations.jsonl", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); !os.IsNotExist(err) {
		t.Fatalf("a failed backup has a manifest: %v", err)
	}
}

// TestRestoreEarlierBackup: a backup of a build that kept no will
// expressions or disclosure log restores, while a backup whose manifest
// counts them cannot lose their files unnoticed.
func TestRestoreEarlierBackup(t *testing.T) {
	ctx := context.Background()
	open := func() archive.Store {
		st, err := sqlite.Open(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	src := open()
	putWills(t, src, "1.2.246.21|010180-9026")
	dir := filepath.Join(t.TempDir(), "backup")
	m, err := backup.Backup(ctx, src, "sqlite", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"wills.jsonl", "disclosures.jsonl"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := backup.Restore(ctx, dir, open(), nil); err == nil {
		t.Error("a backup whose manifest counts will expressions restored without their file")
	}
	delete(m.Counts, "wills")
	delete(m.Counts, "disclosures")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := open()
	if _, err := backup.Restore(ctx, dir, dst, nil); err != nil {
		t.Fatalf("restore of a backup without will expressions: %v", err)
	}
	if got := wills(t, dst); got != "[null,null]\n" {
		t.Errorf("restored from nothing: %s", got)
	}
}
