package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

const recordCols = `d.status, d.controller, d.record, n.reason_code, n.reason_text, n.by_caller, n.at, d.updated_at, d.patient_id`

const recordFrom = ` FROM documents d LEFT JOIN nullifications n ON n.client_key = d.client_key AND n.doc_id = d.doc_id `

func scanRecord(row pgx.Row) (*archive.Record, error) {
	var rec []byte
	return scanRecordInto(row, &rec)
}

// scanRecordInto scans a row with the record's JSON into *rec: a list
// scans into pgtype.DriverBytes, the driver's own buffer, which the
// decoding copies what it keeps out of before the next row.
func scanRecordInto[T []byte | pgtype.DriverBytes](row pgx.Row, rec *T) (*archive.Record, error) {
	var status, controller string
	var rc, rt *string
	var by []byte
	var at *time.Time
	var updated time.Time
	var patient string
	if err := row.Scan(&status, &controller, rec, &rc, &rt, &by, &at, &updated, &patient); err != nil {
		return nil, err
	}
	var n *sqlstore.NullRow
	if rc != nil {
		n = &sqlstore.NullRow{ReasonCode: *rc, ReasonText: *rt, By: by, At: *at}
	}
	r, err := sqlstore.DecodeRecord(status, controller, []byte(*rec), n)
	if err != nil {
		return nil, err
	}
	r.Updated, r.PatientID = updated.UTC(), patient
	return r, nil
}

// clientOf finds which client holds a document.
func (t *txn) clientOf(ctx context.Context, id string) (string, error) {
	var key string
	err := t.tx.QueryRow(ctx, `SELECT client_key FROM document_ids WHERE doc_id = $1`, id).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", archive.ErrNotFound
	}
	return key, err
}

// qDocument finds a document's client and the document in one round trip;
// on Citus the subquery runs first and routes the rest to one shard.
const qDocument = `SELECT ` + recordCols + recordFrom +
	`WHERE d.client_key = (SELECT client_key FROM document_ids WHERE doc_id = $1) AND d.doc_id = $1`

func (t *txn) Document(ctx context.Context, id string) (*archive.Record, error) {
	r, err := scanRecord(t.tx.QueryRow(ctx, qDocument, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return r, err
}

func (t *txn) Content(ctx context.Context, r *archive.Record) ([]byte, error) {
	var data []byte
	err := t.tx.QueryRow(ctx, `SELECT data FROM blobs WHERE client_key = $1 AND sha256 = $2`, r.ClientKey(), r.SHA256).Scan(&data)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	return sqlstore.Content(ctx, r, err == nil, data, t.blobs)
}

// The statements that store a version. They go to PostgreSQL together
// (pgx.Batch: one round trip, where each waited for the last), and their
// results are read in order: the first failure is the answer, as when
// each was sent alone, and any failure rolls the whole transaction back,
// so what the later ones did is never kept.
const (
	qPutID  = `INSERT INTO document_ids (doc_id, client_key) VALUES ($1, $2)`
	qPutSet = `INSERT INTO document_sets (set_id, client_key) VALUES ($1, $2)
		ON CONFLICT (set_id) DO UPDATE SET set_id = excluded.set_id RETURNING client_key`
	qPutBlob = `INSERT INTO blobs (client_key, sha256, size, data) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`
	qPutDoc  = `INSERT INTO documents (client_key, doc_id, set_id, version, status, custodian, register,
		service_task, general_type, specific_type, document_group, case_id, client_relationship, service_unit,
		service_process, case_opened, case_closed, effective_at, replaces, content_sha256, content_size, record,
		received_at, submitter_system, submitter_org, controller,
		updated_at, author_family, author_given, confidentiality, display_format, patient_id, referenced_at, search_terms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26,
		$27, $28, $29, $30, $31, $32, $33, true)`
)

func (t *txn) PutDocument(ctx context.Context, r *archive.Record, content []byte) error {
	key := r.ClientKey()
	h := &r.Header
	doc, err := sqlstore.EncodeDocument(r)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(qPutID, h.ID, key)
	b.Queue(qPutSet, h.SetID, key)
	if t.blobs != nil {
		// Content kept outside goes there only once the id is taken and
		// the set is the client's, as before: a refused version leaves no
		// blob behind.
		if err := t.putIDs(ctx, b, key, h.SetID); err != nil {
			return err
		}
		b = &pgx.Batch{}
	}
	stored, err := sqlstore.PutContent(ctx, t.blobs, r, content)
	if err != nil {
		return err
	}
	b.Queue(qPutBlob, key, r.SHA256, len(content), stored)
	b.Queue(qPutDoc,
		key, h.ID, h.SetID, h.Version, string(r.Status), h.Custodian.OID, h.Register.Code,
		h.ServiceTask.Code, h.GeneralType.Code, h.SpecificType.Code, h.DocumentGroup.Code, h.Case.ID, h.ClientRelationshipID, h.Case.ServiceUnit.OID,
		doc.ServiceProcess, h.Case.Opened, h.Case.Closed, h.EffectiveTime, doc.Replaces, r.SHA256, r.Size, doc.JSON,
		r.ReceivedAt, r.Submitter.System, r.Submitter.Organisation, r.Controller,
		r.LastUpdated(), doc.AuthorFamily, doc.AuthorGiven, h.Confidentiality.Code, h.DisplayFormat.Code, r.PatientID, r.ReferenceDate())
	br := t.tx.SendBatch(ctx, b)
	defer br.Close()
	if t.blobs == nil {
		if err := readIDs(br, key, h.SetID); err != nil {
			return err
		}
	}
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("store content: %w", mapErr(err))
	}
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("store document: %w", mapErr(err))
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("store document: %w", mapErr(err))
	}
	return nil
}

// putIDs sends a batch that begins with the version's id and set (qPutID,
// qPutSet) and reads their results.
func (t *txn) putIDs(ctx context.Context, b *pgx.Batch, key, setID string) error {
	br := t.tx.SendBatch(ctx, b)
	if err := readIDs(br, key, setID); err != nil {
		br.Close()
		return err
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("store document: %w", mapErr(err))
	}
	return nil
}

// readIDs reads the results of qPutID and qPutSet: the id must be new,
// and the set the client's.
func readIDs(br pgx.BatchResults, key, setID string) error {
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("store document: %w", mapErr(err))
	}
	var setClient string
	if err := br.QueryRow().Scan(&setClient); err != nil {
		return fmt.Errorf("store document: %w", mapErr(err))
	}
	if setClient != key {
		return &archive.Error{Kind: archive.ErrConflict, Message: "the document set " + setID + " belongs to another client"}
	}
	return nil
}

func (t *txn) Supersede(ctx context.Context, id string, at time.Time) (bool, error) {
	key, err := t.clientOf(ctx, id)
	if err != nil {
		return false, err
	}
	tag, err := t.tx.Exec(ctx, `UPDATE documents SET status = 'superseded', updated_at = GREATEST(updated_at, $3) WHERE client_key = $1 AND doc_id = $2 AND status = 'current'`, key, id, at)
	if err != nil {
		return false, mapErr(err)
	}
	return tag.RowsAffected() == 1, nil
}

func (t *txn) PatientClient(ctx context.Context, patientID string) (string, error) {
	var key string
	err := t.tx.QueryRow(ctx, `SELECT client_key FROM documents WHERE patient_id = $1 LIMIT 1`, patientID).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) || patientID == "" {
		return "", archive.ErrNotFound
	}
	return key, err
}

func (t *txn) Nullify(ctx context.Context, id string, n archive.Nullification) (bool, error) {
	key, err := t.clientOf(ctx, id)
	if err != nil {
		return false, err
	}
	tag, err := t.tx.Exec(ctx, `UPDATE documents SET status = 'nullified', updated_at = GREATEST(updated_at, $3) WHERE client_key = $1 AND doc_id = $2 AND status <> 'nullified'`, key, id, n.At)
	if err != nil {
		return false, mapErr(err)
	}
	if tag.RowsAffected() != 1 {
		return false, nil
	}
	by, err := sqlstore.EncodeBy(n)
	if err != nil {
		return false, err
	}
	if _, err := t.tx.Exec(ctx, `INSERT INTO nullifications (client_key, doc_id, reason_code, reason_text, by_caller, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		key, id, n.ReasonCode, n.ReasonText, by, n.At); err != nil {
		return false, mapErr(err)
	}
	return true, nil
}

func collect(rows pgx.Rows) ([]*archive.Record, error) {
	defer rows.Close()
	var out []*archive.Record
	for rows.Next() {
		var rec pgtype.DriverBytes
		r, err := scanRecordInto(rows, &rec)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (t *txn) Versions(ctx context.Context, setID string) ([]*archive.Record, error) {
	var key string
	err := t.tx.QueryRow(ctx, `SELECT client_key FROM document_sets WHERE set_id = $1`, setID).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(ctx, `SELECT `+recordCols+recordFrom+`WHERE d.client_key = $1 AND d.set_id = $2 ORDER BY d.version`, key, setID)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

func (t *txn) ScanDocuments(ctx context.Context, after string, limit int) ([]*archive.Record, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+recordCols+recordFrom+`WHERE d.doc_id > $1 ORDER BY d.doc_id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

// ScanDocumentIDs implements archive.IDScanner.
func (t *txn) ScanDocumentIDs(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := t.tx.Query(ctx, `SELECT doc_id FROM documents WHERE doc_id > $1 ORDER BY doc_id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (t *txn) RestoreNullification(ctx context.Context, id string, n archive.Nullification) error {
	key, err := t.clientOf(ctx, id)
	if err != nil {
		return err
	}
	by, err := sqlstore.EncodeBy(n)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(ctx, `INSERT INTO nullifications (client_key, doc_id, reason_code, reason_text, by_caller, at)
		SELECT client_key, doc_id, $3, $4, $5, $6 FROM documents WHERE client_key = $1 AND doc_id = $2 AND status = 'nullified'`,
		key, id, n.ReasonCode, n.ReasonText, by, n.At)
	return mapErr(err)
}
