package backup

import (
	"context"
	"fmt"
	"strings"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/progress"
)

// Finding is one problem Verify found. It names document ids and hashes,
// never personal data.
type Finding struct {
	Document string `json:"document,omitempty"`
	Problem  string `json:"problem"`
}

// Report is the result of Verify.
type Report struct {
	Documents    int       `json:"documents"`
	ContentBytes int64     `json:"contentBytes"`
	LogEntries   int       `json:"logEntries"`
	Wills        int       `json:"willExpressions"`
	Disclosures  int       `json:"disclosures"`
	Findings     []Finding `json:"findings,omitempty"`
}

// OK reports whether nothing was found.
func (r *Report) OK() bool { return len(r.Findings) == 0 }

// Verify reads every version's content and checks it against the metadata:
// the blob exists and its SHA-256 and size are what the row says; the row
// agrees with its own record; each set has at most one current version;
// and every version has the access-log entry of its archiving. Will
// expressions and the disclosure log are read whole: every row must
// decode, a withdrawal must come after what it withdraws, and a
// disclosure must name its client and both controllers.
func Verify(ctx context.Context, st archive.Store, progress func(int)) (*Report, error) {
	rep := &Report{}
	add := func(doc, format string, args ...any) {
		rep.Findings = append(rep.Findings, Finding{Document: doc, Problem: fmt.Sprintf(format, args...)})
	}
	err := st.View(ctx, func(tx archive.Tx) error {
		archived := map[string]bool{} // versions with an allowed archive entry
		var afterID int64
		for {
			entries, err := tx.ScanAccessLog(ctx, afterID, page)
			if err != nil {
				return err
			}
			for _, e := range entries {
				rep.LogEntries++
				if e.Action == archive.ActionArchive && e.Outcome == archive.OutcomeAllowed && len(e.Documents) > 0 {
					archived[e.Documents[0]] = true
				}
			}
			if len(entries) < page {
				break
			}
			afterID = entries[len(entries)-1].ID
		}
		if err := verifyWills(ctx, tx, rep, add); err != nil {
			return err
		}
		current := map[string]string{} // set -> current version
		check := func(r *archive.Record) {
			rep.Documents++
			id := r.Header.ID
			content, err := tx.Content(ctx, r)
			switch {
			case err != nil:
				add(id, "content: %v", err)
			case int64(len(content)) != r.Size:
				add(id, "content is %d bytes, the record says %d", len(content), r.Size)
			default:
				rep.ContentBytes += int64(len(content))
			}
			if !r.Status.Valid() {
				add(id, "unknown status %q", r.Status)
			}
			if (r.Status == archive.StatusNullified) != (r.Nullification != nil) {
				add(id, "status %s does not match its nullification record", r.Status)
			}
			if r.Status == archive.StatusCurrent {
				if other, ok := current[r.Header.SetID]; ok {
					add(id, "set %s has two current versions (%s too)", r.Header.SetID, other)
				}
				current[r.Header.SetID] = id
			}
			if !archived[id] {
				add(id, "no access-log entry records its archiving")
			}
		}
		after := ""
		for {
			recs, err := tx.ScanDocuments(ctx, after, page)
			n := len(recs)
			if err != nil {
				// A record in this page does not read: take the page one
				// record at a time, naming the ones that fail.
				scanner, ok := tx.(archive.IDScanner)
				if !ok {
					return err
				}
				ids, ierr := scanner.ScanDocumentIDs(ctx, after, page)
				if ierr != nil {
					return fmt.Errorf("%w (and listing the ids: %v)", err, ierr)
				}
				for _, id := range ids {
					r, err := tx.Document(ctx, id)
					if err != nil {
						rep.Documents++
						add(id, "record: %v", err)
						continue
					}
					check(r)
				}
				if n = len(ids); n > 0 {
					after = ids[n-1]
				}
			} else {
				for _, r := range recs {
					check(r)
				}
				if n > 0 {
					after = recs[n-1].Header.ID
				}
			}
			if progress != nil {
				progress(rep.Documents)
			}
			if n < page {
				break
			}
		}
		return nil
	})
	return rep, err
}

// verifyWills checks the will expressions and the disclosure log. The
// findings name ids, never clients.
func verifyWills(ctx context.Context, tx archive.Tx, rep *Report, add func(doc, format string, args ...any)) error {
	after := ""
	for {
		wills, err := tx.ScanWills(ctx, after, page)
		if err != nil {
			return fmt.Errorf("read will expressions: %w", err)
		}
		for _, e := range wills {
			rep.Wills++
			if e.ClientKey == "" {
				add("", "will expression %s names no client", e.ID)
			}
			if e.Withdrawn != nil && e.Withdrawn.At.Before(e.RecordedAt) {
				add("", "will expression %s is withdrawn before it was recorded", e.ID)
			}
		}
		if len(wills) < page {
			break
		}
		after = wills[len(wills)-1].ID
	}
	var afterID int64
	for {
		ds, err := tx.ScanDisclosures(ctx, afterID, page)
		if err != nil {
			return fmt.Errorf("read the disclosure log: %w", err)
		}
		for _, d := range ds {
			rep.Disclosures++
			if d.ClientKey == "" || d.Discloser == "" || d.Recipient == "" {
				add("", "disclosure-log entry %d does not name its client, discloser and recipient", d.ID)
			}
		}
		if len(ds) < page {
			break
		}
		afterID = ds[len(ds)-1].ID
	}
	return nil
}

// String summarises a report.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s of content, %s", progress.Plural(r.Documents, "document", "documents"), progress.Size(r.ContentBytes),
		progress.Plural(r.LogEntries, "access-log entry", "access-log entries"))
	if r.Wills > 0 || r.Disclosures > 0 {
		fmt.Fprintf(&b, ", %s, %s", progress.Plural(r.Wills, "will expression", "will expressions"),
			progress.Plural(r.Disclosures, "disclosure-log entry", "disclosure-log entries"))
	}
	b.WriteString(" checked")
	switch {
	case r.Documents == 0 && r.OK():
		b.WriteString(": the archive holds no documents")
	case r.OK():
		b.WriteString(": no problems")
	default:
		fmt.Fprintf(&b, ": %d problems", len(r.Findings))
	}
	return b.String()
}
