package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/store/sqlstore"
)

const recordCols = `d.status, d.controller, d.record_json, n.reason_code, n.reason_text, n.by_json, n.at_us, d.updated_us, d.patient_id`

const recordFrom = ` FROM documents d LEFT JOIN nullifications n ON n.doc_id = d.doc_id `

func scanRecord(row scanner) (*archive.Record, error) {
	var recJSON []byte
	return scanRecordInto(row, &recJSON)
}

// scanRecordInto scans a row with the record's JSON into *recJSON: a list
// passes one sql.RawBytes for all its rows, the decoding copying out what
// it keeps, so that no row's JSON is copied twice.
func scanRecordInto[T []byte | sql.RawBytes](row scanner, recJSON *T) (*archive.Record, error) {
	var status, controller string
	var rc, rt, by sql.NullString
	var at sql.NullInt64
	var updated int64
	var patient string
	if err := row.Scan(&status, &controller, recJSON, &rc, &rt, &by, &at, &updated, &patient); err != nil {
		return nil, err
	}
	var n *sqlstore.NullRow
	if rc.Valid {
		n = &sqlstore.NullRow{ReasonCode: rc.String, ReasonText: rt.String, By: []byte(by.String), At: time.UnixMicro(at.Int64)}
	}
	r, err := sqlstore.DecodeRecord(status, controller, []byte(*recJSON), n)
	if err != nil {
		return nil, err
	}
	r.Updated, r.PatientID = time.UnixMicro(updated).UTC(), patient
	return r, nil
}

func (t *txn) Document(ctx context.Context, id string) (*archive.Record, error) {
	r, err := scanRecord(t.tx.QueryRowContext(ctx, qDocument, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archive.ErrNotFound
	}
	return r, err
}

func (t *txn) Content(ctx context.Context, r *archive.Record) ([]byte, error) {
	var data []byte
	err := t.tx.QueryRowContext(ctx, qContent, r.SHA256).Scan(&data)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return sqlstore.Content(ctx, r, err == nil, data, t.blobs)
}

func (t *txn) PutDocument(ctx context.Context, r *archive.Record, content []byte) error {
	stored, err := sqlstore.PutContent(ctx, t.blobs, r, content)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, qPutBlob, r.SHA256, len(content), stored); err != nil {
		return fmt.Errorf("store content: %w", mapErr(err))
	}
	doc, err := sqlstore.EncodeDocument(r)
	if err != nil {
		return err
	}
	h := &r.Header
	var opened, closed sql.NullInt64
	if h.Case.Opened != nil {
		opened = sql.NullInt64{Int64: h.Case.Opened.UnixMicro(), Valid: true}
	}
	if h.Case.Closed != nil {
		closed = sql.NullInt64{Int64: h.Case.Closed.UnixMicro(), Valid: true}
	}
	_, err = t.tx.ExecContext(ctx, qPutDocument,
		h.ID, h.SetID, h.Version, r.ClientKey(), string(r.Status), h.Custodian.OID, h.Register.Code,
		h.ServiceTask.Code, h.GeneralType.Code, h.SpecificType.Code, h.DocumentGroup.Code, h.Case.ID, h.ClientRelationshipID, h.Case.ServiceUnit.OID,
		doc.ServiceProcess, opened, closed,
		h.EffectiveTime.UnixMicro(), doc.Replaces, r.SHA256, r.Size, string(doc.JSON), r.ReceivedAt.UnixMicro(), r.Submitter.System, r.Submitter.Organisation, r.Controller,
		r.LastUpdated().UnixMicro(), doc.AuthorFamily, doc.AuthorGiven, h.Confidentiality.Code, h.DisplayFormat.Code, r.PatientID, r.ReferenceDate().UnixMicro())
	if err != nil {
		return fmt.Errorf("store document: %w", mapErr(err))
	}
	return nil
}

func (t *txn) Supersede(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, qSupersede, at.UnixMicro(), id)
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *txn) PatientClient(ctx context.Context, patientID string) (string, error) {
	var key string
	err := t.tx.QueryRowContext(ctx, `SELECT client_key FROM documents WHERE patient_id = ? LIMIT 1`, patientID).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) || patientID == "" {
		return "", archive.ErrNotFound
	}
	return key, err
}

func (t *txn) Nullify(ctx context.Context, id string, n archive.Nullification) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE documents SET status = 'nullified', updated_us = MAX(updated_us, ?) WHERE doc_id = ? AND status <> 'nullified'`, n.At.UnixMicro(), id)
	if err != nil {
		return false, mapErr(err)
	}
	if c, err := res.RowsAffected(); err != nil || c != 1 {
		return false, err
	}
	by, err := sqlstore.EncodeBy(n)
	if err != nil {
		return false, err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO nullifications (doc_id, client_key, reason_code, reason_text, by_json, at_us)
		SELECT doc_id, client_key, ?, ?, ?, ? FROM documents WHERE doc_id = ?`, n.ReasonCode, n.ReasonText, string(by), n.At.UnixMicro(), id)
	if err != nil {
		return false, mapErr(err)
	}
	return true, nil
}

func collect(rows *sql.Rows) ([]*archive.Record, error) {
	defer rows.Close()
	var out []*archive.Record
	var recJSON sql.RawBytes
	for rows.Next() {
		r, err := scanRecordInto(rows, &recJSON)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (t *txn) Versions(ctx context.Context, setID string) ([]*archive.Record, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+recordCols+recordFrom+`WHERE d.set_id = ? ORDER BY d.version`, setID)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

func (t *txn) ScanDocuments(ctx context.Context, after string, limit int) ([]*archive.Record, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+recordCols+recordFrom+`WHERE d.doc_id > ? ORDER BY d.doc_id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows)
}

// ScanDocumentIDs implements archive.IDScanner.
func (t *txn) ScanDocumentIDs(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT doc_id FROM documents WHERE doc_id > ? ORDER BY doc_id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (t *txn) RestoreNullification(ctx context.Context, id string, n archive.Nullification) error {
	by, err := sqlstore.EncodeBy(n)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO nullifications (doc_id, client_key, reason_code, reason_text, by_json, at_us)
		SELECT doc_id, client_key, ?, ?, ?, ? FROM documents WHERE doc_id = ? AND status = 'nullified'`, n.ReasonCode, n.ReasonText, string(by), n.At.UnixMicro(), id)
	return mapErr(err)
}
