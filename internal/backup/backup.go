// Package backup takes consistent online backups of an archive, restores
// them, and verifies an archive's content against its metadata.
//
// A backup is a directory in a backend-neutral format, read in one
// snapshot transaction while the archive keeps taking writes:
//
//	manifest.json        written last; its presence marks a complete backup
//	organisations.jsonl  systems.jsonl  trust_anchors.jsonl  revoked.jsonl
//	registers.jsonl      relationships.jsonl  archivists.jsonl  transfers.jsonl
//	guardianships.jsonl  every guardianship, in force and ended
//	documents.jsonl      one archived version per line (the full record)
//	access_log.jsonl     every access-log entry, oldest first
//	wills.jsonl          every will expression with its withdrawal, by id
//	disclosures.jsonl    the disclosure log, oldest first, ids kept
//	submission_sets.jsonl  every kept submission set (MHD SubmissionSet), by id
//	blobs/ab/cd/<sha256> the content, content-addressed and hash-checked
//
// Because the format is neutral, a backup of the embedded SQLite archive
// restores into PostgreSQL (with any blob store) and the other way round.
package backup

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/blob"
	"github.com/arkisto/arkisto/internal/consent"
)

// Format names the backup layout.
const Format = "arkisto-backup/1"

// Manifest describes a backup.
type Manifest struct {
	Format        string         `json:"format"`
	Created       time.Time      `json:"created"`
	Source        string         `json:"source"`
	Counts        map[string]int `json:"counts"`
	ContentBytes  int64          `json:"contentBytes"`
	SnapshotEnded time.Time      `json:"snapshotEnded"`
}

const page = 500

type systemRow struct {
	Name         string     `json:"name"`
	Organisation string     `json:"organisation"`
	CertDER      string     `json:"certDer"`
	AddedAt      time.Time  `json:"addedAt"`
	RevokedAt    *time.Time `json:"revokedAt,omitempty"`
}

type jsonl struct {
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
	n   int
}

func create(dir, name string) (*jsonl, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	return &jsonl{f: f, w: w, enc: json.NewEncoder(w)}, nil
}

// put writes one line; n counts only the lines written, so that a
// manifest never claims a line the file lacks.
func (j *jsonl) put(v any) error {
	if err := j.enc.Encode(v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(j.f.Name()), err)
	}
	j.n++
	return nil
}

// putAll writes every element of vs as one line each.
func putAll[T any](j *jsonl, vs []T, line func(T) any) error {
	for _, v := range vs {
		if err := j.put(line(v)); err != nil {
			return err
		}
	}
	return nil
}

func same[T any](v T) any { return v }

// close flushes, syncs and closes the file, reporting the first error; the
// file is closed whatever happens.
func (j *jsonl) close() error {
	err := j.w.Flush()
	if err == nil {
		err = j.f.Sync()
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(j.f.Name()), err)
	}
	return nil
}

// Backup writes a consistent backup of the store into dir, which must not
// exist or be empty. It reads in one snapshot, so it may run while the
// archive takes writes. progress, if set, is called with the number of
// documents copied so far.
func Backup(ctx context.Context, st archive.Store, source, dir string, progress func(int)) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(dir); err != nil {
		return nil, err
	} else if len(entries) > 0 {
		return nil, fmt.Errorf("backup directory %s is not empty", dir)
	}
	blobs, err := blob.OpenFiles(filepath.Join(dir, "blobs"))
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: Format, Created: time.Now().UTC(), Source: source, Counts: map[string]int{}}
	files := map[string]*jsonl{}
	closeAll := func() error {
		var errs []error
		for name, f := range files {
			errs = append(errs, f.close())
			m.Counts[name] = f.n
		}
		return errors.Join(errs...)
	}
	for _, name := range []string{"organisations", "systems", "trust_anchors", "revoked", "registers", "relationships", "archivists", "guardianships", "transfers", "documents", "access_log", "wills", "disclosures", "submission_sets"} {
		f, err := create(dir, name+".jsonl")
		if err != nil {
			return nil, errors.Join(fmt.Errorf("backup: %w", err), closeAll())
		}
		files[name] = f
	}
	err = st.View(ctx, func(tx archive.Tx) error {
		orgs, err := tx.Organisations(ctx)
		if err != nil {
			return err
		}
		if err := putAll(files["organisations"], orgs, same); err != nil {
			return err
		}
		systems, err := tx.Systems(ctx)
		if err != nil {
			return err
		}
		if err := putAll(files["systems"], systems, func(s *archive.System) any {
			return systemRow{Name: s.Name, Organisation: s.Organisation, CertDER: base64.StdEncoding.EncodeToString(s.Cert.Raw), AddedAt: s.AddedAt, RevokedAt: s.RevokedAt}
		}); err != nil {
			return err
		}
		anchors, err := tx.TrustAnchors(ctx)
		if err != nil {
			return err
		}
		if err := putAll(files["trust_anchors"], anchors, func(c *x509.Certificate) any { return base64.StdEncoding.EncodeToString(c.Raw) }); err != nil {
			return err
		}
		revoked, err := tx.RevokedCerts(ctx)
		if err != nil {
			return err
		}
		if err := putAll(files["revoked"], revoked, same); err != nil {
			return err
		}
		regs, err := tx.Registers(ctx)
		if err != nil {
			return err
		}
		if err := putAll(files["registers"], regs, same); err != nil {
			return err
		}
		archivists, err := tx.Archivists(ctx)
		if err != nil {
			return err
		}
		if err := putAll(files["archivists"], archivists, same); err != nil {
			return err
		}
		guardianships, err := tx.Guardianships(ctx, archive.GuardianshipQuery{})
		if err != nil {
			return err
		}
		if err := putAll(files["guardianships"], guardianships, same); err != nil {
			return err
		}
		transfers, err := tx.Transfers(ctx)
		if err != nil {
			return err
		}
		if err := putAll(files["transfers"], transfers, same); err != nil {
			return err
		}
		var afterRel archive.RelationshipKey
		for {
			rels, err := tx.ScanRelationships(ctx, afterRel, page)
			if err != nil {
				return err
			}
			if err := putAll(files["relationships"], rels, same); err != nil {
				return err
			}
			if len(rels) < page {
				break
			}
			afterRel = rels[len(rels)-1].Key()
		}
		after := ""
		for {
			recs, err := tx.ScanDocuments(ctx, after, page)
			if err != nil {
				return err
			}
			for _, r := range recs {
				content, err := tx.Content(ctx, r)
				if err != nil {
					return fmt.Errorf("document %s: %w", r.Header.ID, err)
				}
				if err := blobs.Put(ctx, r.SHA256, content); err != nil {
					return err
				}
				m.ContentBytes += int64(len(content))
				if err := files["documents"].put(r); err != nil {
					return err
				}
			}
			if progress != nil {
				progress(files["documents"].n)
			}
			if len(recs) < page {
				break
			}
			after = recs[len(recs)-1].Header.ID
		}
		var afterID int64
		for {
			entries, err := tx.ScanAccessLog(ctx, afterID, page)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if err := files["access_log"].put(e); err != nil {
					return err
				}
			}
			if len(entries) < page {
				break
			}
			afterID = entries[len(entries)-1].ID
		}
		afterWill := ""
		for {
			wills, err := tx.ScanWills(ctx, afterWill, page)
			if err != nil {
				return err
			}
			if err := putAll(files["wills"], wills, same); err != nil {
				return err
			}
			if len(wills) < page {
				break
			}
			afterWill = wills[len(wills)-1].ID
		}
		afterID = 0
		for {
			ds, err := tx.ScanDisclosures(ctx, afterID, page)
			if err != nil {
				return err
			}
			if err := putAll(files["disclosures"], ds, same); err != nil {
				return err
			}
			if len(ds) < page {
				break
			}
			afterID = ds[len(ds)-1].ID
		}
		afterSet := ""
		for {
			sets, err := tx.ScanSubmissionSets(ctx, afterSet, page)
			if err != nil {
				return err
			}
			if err := putAll(files["submission_sets"], sets, same); err != nil {
				return err
			}
			if len(sets) < page {
				break
			}
			afterSet = sets[len(sets)-1].ID
		}
		return nil
	})
	if cerr := closeAll(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	m.SnapshotEnded = time.Now().UTC()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeSynced(filepath.Join(dir, "manifest.json"), b); err != nil {
		return nil, err
	}
	return m, nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadManifest reads and checks a backup's manifest.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s holds no complete backup (no manifest.json)", dir)
		}
		return nil, err
	}
	m := &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("manifest.json: format %q, this build reads %s", m.Format, Format)
	}
	return m, nil
}

// each decodes every line of a backup file into a fresh T. A file the
// manifest does not count, of a kind that backups of earlier builds did
// not hold, may be missing: it holds nothing.
func each[T any](dir, name string, fn func(*T) error) (int, error) {
	f, err := os.Open(filepath.Join(dir, name+".jsonl"))
	if errors.Is(err, os.ErrNotExist) && optional[name] {
		if m, merr := ReadManifest(dir); merr == nil {
			if _, counted := m.Counts[name]; !counted {
				return 0, nil
			}
		}
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	n := 0
	for {
		v := new(T)
		if err := dec.Decode(v); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, fmt.Errorf("%s.jsonl line %d: %w", name, n+1, err)
		}
		n++
		if err := fn(v); err != nil {
			return n, err
		}
	}
}

// optional are the files backups of earlier builds lack.
var optional = map[string]bool{"wills": true, "disclosures": true, "submission_sets": true, "guardianships": true}

// Restore loads a backup into an empty store. Counts must match the
// manifest; every blob is hash-checked as it is read.
func Restore(ctx context.Context, dir string, st archive.Store, progress func(int)) (*Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	blobs, err := blob.OpenFiles(filepath.Join(dir, "blobs"))
	if err != nil {
		return nil, err
	}
	var existing int
	if err := st.View(ctx, func(tx archive.Tx) error {
		recs, err := tx.ScanDocuments(ctx, "", 1)
		existing = len(recs)
		return err
	}); err != nil {
		return nil, err
	}
	if existing > 0 {
		return nil, errors.New("restore needs an empty archive; this one holds documents")
	}
	counts := map[string]int{}
	// Configuration first, in one transaction.
	err = st.Update(ctx, func(tx archive.Tx) error {
		var err error
		if counts["organisations"], err = each(dir, "organisations", func(o *archive.Organisation) error { return tx.PutOrganisation(ctx, o) }); err != nil {
			return err
		}
		if counts["trust_anchors"], err = each(dir, "trust_anchors", func(der *string) error {
			c, err := parseDER(*der)
			if err != nil {
				return err
			}
			_, err = tx.AddTrustAnchor(ctx, c)
			return err
		}); err != nil {
			return err
		}
		if counts["systems"], err = each(dir, "systems", func(s *systemRow) error {
			c, err := parseDER(s.CertDER)
			if err != nil {
				return err
			}
			if err := tx.PutSystem(ctx, &archive.System{Name: s.Name, Organisation: s.Organisation, Cert: c, AddedAt: s.AddedAt}); err != nil {
				return err
			}
			if s.RevokedAt != nil {
				return tx.RevokeSystem(ctx, s.Name, *s.RevokedAt)
			}
			return nil
		}); err != nil {
			return err
		}
		if counts["revoked"], err = each(dir, "revoked", func(r *archive.RevokedCert) error {
			_, err := tx.AddRevoked(ctx, *r)
			return err
		}); err != nil {
			return err
		}
		if counts["registers"], err = each(dir, "registers", func(r *archive.Register) error { return tx.PutRegister(ctx, r) }); err != nil {
			return err
		}
		if counts["archivists"], err = each(dir, "archivists", func(a *archive.Archivist) error { return tx.PutArchivist(ctx, a) }); err != nil {
			return err
		}
		// Ordered by pair and start, each ended before the next starts.
		if counts["guardianships"], err = each(dir, "guardianships", func(g *archive.Guardianship) error {
			if err := tx.PutGuardianship(ctx, g); err != nil {
				return err
			}
			if g.Until.IsZero() {
				return nil
			}
			_, err := tx.EndGuardianship(ctx, g.Guardian, g.Child, g.Until)
			return err
		}); err != nil {
			return err
		}
		if counts["transfers"], err = each(dir, "transfers", func(t *archive.Transfer) error {
			t.ID = 0
			return tx.PutTransfer(ctx, t)
		}); err != nil {
			return err
		}
		counts["relationships"], err = each(dir, "relationships", func(r *archive.Relationship) error { return tx.PutRelationship(ctx, r) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("restore configuration: %w", err)
	}
	// Documents in batches, each batch one transaction.
	var batch []*archive.Record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := st.Update(ctx, func(tx archive.Tx) error {
			for _, r := range batch {
				content, err := blobs.Get(ctx, r.SHA256)
				if err != nil {
					return fmt.Errorf("document %s: %w", r.Header.ID, err)
				}
				n := r.Nullification
				if err := tx.PutDocument(ctx, r, content); err != nil {
					return fmt.Errorf("document %s: %w", r.Header.ID, err)
				}
				if n != nil {
					if err := tx.RestoreNullification(ctx, r.Header.ID, *n); err != nil {
						return err
					}
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	counts["documents"], err = each(dir, "documents", func(r *archive.Record) error {
		batch = append(batch, r)
		if len(batch) == page {
			if err := flush(); err != nil {
				return err
			}
			if progress != nil {
				progress(counts["documents"] + page)
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, fmt.Errorf("restore documents: %w", err)
	}
	var entries []*archive.AccessEntry
	flushLog := func() error {
		err := st.Update(ctx, func(tx archive.Tx) error {
			for _, e := range entries {
				if err := tx.AppendAccess(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		entries = entries[:0]
		return err
	}
	counts["access_log"], err = each(dir, "access_log", func(e *archive.AccessEntry) error {
		entries = append(entries, e)
		if len(entries) == page {
			return flushLog()
		}
		return nil
	})
	if err == nil {
		err = flushLog()
	}
	if err != nil {
		return nil, fmt.Errorf("restore the access log: %w", err)
	}
	if counts["wills"], err = restoreWills(ctx, dir, st); err != nil {
		return nil, fmt.Errorf("restore will expressions: %w", err)
	}
	if counts["disclosures"], err = restoreDisclosures(ctx, dir, st); err != nil {
		return nil, fmt.Errorf("restore the disclosure log: %w", err)
	}
	if counts["submission_sets"], err = inBatches(ctx, dir, "submission_sets", st, func(tx archive.Tx, s *archive.SubmissionSet) error {
		if err := tx.PutSubmissionSet(ctx, s); err != nil {
			return fmt.Errorf("submission set %s: %w", s.ID, err)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("restore the submission sets: %w", err)
	}
	for name, want := range m.Counts {
		if counts[name] != want {
			return nil, fmt.Errorf("restored %d %s, the backup's manifest says %d", counts[name], name, want)
		}
	}
	return m, nil
}

// inBatches restores the lines of a backup file, page lines to a write
// transaction.
func inBatches[T any](ctx context.Context, dir, name string, st archive.Store, put func(archive.Tx, *T) error) (int, error) {
	var batch []*T
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := st.Update(ctx, func(tx archive.Tx) error {
			for _, v := range batch {
				if err := put(tx, v); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	n, err := each(dir, name, func(v *T) error {
		batch = append(batch, v)
		if len(batch) == page {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return n, err
}

// restoreWills puts every will expression back, and its withdrawal beside
// it, as they were recorded.
func restoreWills(ctx context.Context, dir string, st archive.Store) (int, error) {
	return inBatches(ctx, dir, "wills", st, func(tx archive.Tx, e *consent.Expression) error {
		w := e.Withdrawn
		e.Withdrawn = nil
		if err := tx.PutWill(ctx, e); err != nil {
			return fmt.Errorf("will expression %s: %w", e.ID, err)
		}
		if w == nil {
			return nil
		}
		ok, err := tx.WithdrawWill(ctx, e.ID, *w)
		if err != nil {
			return fmt.Errorf("withdrawal of will expression %s: %w", e.ID, err)
		}
		if !ok {
			return fmt.Errorf("will expression %s was withdrawn already", e.ID)
		}
		return nil
	})
}

// restoreDisclosures puts the disclosure log back with its ids: the
// entries' ids may have been given to clients and recipients.
func restoreDisclosures(ctx context.Context, dir string, st archive.Store) (int, error) {
	return inBatches(ctx, dir, "disclosures", st, func(tx archive.Tx, d *archive.Disclosure) error {
		if err := tx.RestoreDisclosure(ctx, d); err != nil {
			return fmt.Errorf("disclosure-log entry %d: %w", d.ID, err)
		}
		return nil
	})
}

func parseDER(b64 string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}
