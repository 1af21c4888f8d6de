package fhirapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
)

// readBody reads a JSON request body within the size limit; it answers the
// request itself (413, 400, 415) and returns false when it cannot.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if !s.checkJSONBody(w, r) {
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.fail(w, http.StatusRequestEntityTooLarge, issue("too-long", "Bundle", "BODY_TOO_LARGE", fmt.Sprintf("the request body is larger than the limit of %d bytes", s.cfg.MaxBodyBytes)))
		return nil, false
	case err != nil:
		s.fail(w, http.StatusBadRequest, issue("invalid", "", "", "the request body could not be read"))
		return nil, false
	}
	return body, true
}

// rawEntry is a Bundle entry whose resource is decoded by its type.
type rawEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  *BundleRequest  `json:"request"`
}

type rawBundle struct {
	ResourceType string     `json:"resourceType"`
	Type         string     `json:"type"`
	Entry        []rawEntry `json:"entry"`
}

// submission is a parsed ITI-65 Provide Document Bundle.
type submission struct {
	listIndex int
	list      *List
	docs      []*submittedDoc
	entries   []rawEntry
}

type submittedDoc struct {
	refIndex, binIndex int // entry indexes; binIndex -1 when the data was inline
	ref                *DocumentReference
	data               []byte
	dataExpr           string // FHIRPath of the element holding the CDA bytes
}

// badRequest is a 400 with the field at fault.
type badRequest struct {
	status     int
	code, expr string
	msg        string
}

func (e *badRequest) Error() string { return e.msg }

func bad(expr, format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusBadRequest, code: "structure", expr: expr, msg: fmt.Sprintf(format, args...)}
}

func unprocessable(code, expr, format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusUnprocessableEntity, code: code, expr: expr, msg: fmt.Sprintf(format, args...)}
}

func parseSubmission(body []byte) (*submission, error) {
	var b rawBundle
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, bad("Bundle", "the body is not a JSON FHIR resource: %v", err)
	}
	if b.ResourceType != "Bundle" {
		return nil, bad("Bundle.resourceType", "POST /fhir takes a Bundle, not %q", b.ResourceType)
	}
	if b.Type != "transaction" {
		return nil, bad("Bundle.type", "an ITI-65 Provide Document Bundle must have type transaction, not %q", b.Type)
	}
	if len(b.Entry) == 0 {
		return nil, bad("Bundle.entry", "the Bundle has no entries")
	}
	sub := &submission{listIndex: -1, entries: b.Entry}
	binaries := map[string]int{}
	for i, e := range b.Entry {
		path := fmt.Sprintf("Bundle.entry[%d]", i)
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if len(e.Resource) == 0 || json.Unmarshal(e.Resource, &head) != nil {
			return nil, bad(path+".resource", "each entry needs a resource")
		}
		if e.Request == nil || e.Request.Method != http.MethodPost {
			return nil, bad(path+".request.method", "every entry of the submission must be a POST")
		}
		switch head.ResourceType {
		case "List":
			if sub.list != nil {
				return nil, bad(path, "a submission has exactly one SubmissionSet List")
			}
			sub.list = &List{}
			if err := json.Unmarshal(e.Resource, sub.list); err != nil {
				return nil, bad(path+".resource", "the List does not decode: %v", err)
			}
			sub.listIndex = i
		case "DocumentReference":
			ref := &DocumentReference{}
			if err := json.Unmarshal(e.Resource, ref); err != nil {
				return nil, bad(path+".resource", "the DocumentReference does not decode: %v", err)
			}
			sub.docs = append(sub.docs, &submittedDoc{refIndex: i, ref: ref, binIndex: -1})
		case "Binary":
			if e.FullURL == "" {
				return nil, bad(path+".fullUrl", "a Binary needs a fullUrl for its DocumentReference to point at")
			}
			binaries[e.FullURL] = i
		default:
			return nil, bad(path+".resource.resourceType", "a submission holds a List, DocumentReferences and Binaries, not %s", head.ResourceType)
		}
	}
	if sub.list == nil {
		return nil, bad("Bundle.entry", "the submission needs a SubmissionSet List (IHE MHD)")
	}
	if len(sub.docs) == 0 {
		return nil, bad("Bundle.entry", "the submission holds no DocumentReference")
	}
	listed := map[string]bool{}
	for _, le := range sub.list.Entry {
		listed[le.Item.Reference] = true
	}
	used := map[int]bool{}
	for _, d := range sub.docs {
		path := fmt.Sprintf("Bundle.entry[%d].resource", d.refIndex)
		if !listed[b.Entry[d.refIndex].FullURL] || b.Entry[d.refIndex].FullURL == "" {
			return nil, bad(fmt.Sprintf("Bundle.entry[%d].resource.entry", sub.listIndex), "the SubmissionSet List must list every DocumentReference by its fullUrl")
		}
		if len(d.ref.Content) != 1 {
			return nil, bad(path+".content", "a DocumentReference needs exactly one content with the CDA document")
		}
		att := d.ref.Content[0].Attachment
		if att.ContentType != "" && att.ContentType != ContentCDA {
			return nil, unprocessable("value", path+".content[0].attachment.contentType", "the document must be %s, is %q", ContentCDA, att.ContentType)
		}
		switch {
		case att.Data != "":
			data, err := base64.StdEncoding.DecodeString(att.Data)
			if err != nil {
				return nil, bad(path+".content[0].attachment.data", "attachment data is not base64")
			}
			d.data, d.dataExpr = data, path+".content[0].attachment.data"
		case att.URL != "":
			bi, ok := binaries[att.URL]
			if !ok {
				return nil, bad(path+".content[0].attachment.url", "the attachment url must be the fullUrl of a Binary in the Bundle")
			}
			if used[bi] {
				return nil, bad(path+".content[0].attachment.url", "two DocumentReferences point at the same Binary")
			}
			used[bi] = true
			var bin Binary
			if err := json.Unmarshal(b.Entry[bi].Resource, &bin); err != nil {
				return nil, bad(fmt.Sprintf("Bundle.entry[%d].resource", bi), "the Binary does not decode: %v", err)
			}
			bpath := fmt.Sprintf("Bundle.entry[%d].resource", bi)
			if bin.ContentType != ContentCDA {
				return nil, unprocessable("value", bpath+".contentType", "the Binary must hold a CDA document, contentType %s, not %q", ContentCDA, bin.ContentType)
			}
			data, err := base64.StdEncoding.DecodeString(bin.Data)
			if err != nil || len(data) == 0 {
				return nil, bad(bpath+".data", "the Binary's data must be the base64 of the CDA document")
			}
			d.data, d.binIndex, d.dataExpr = data, bi, bpath+".data"
		default:
			return nil, bad(path+".content[0].attachment", "the attachment needs url (a Binary in the Bundle) or data")
		}
	}
	for url, bi := range binaries {
		if !used[bi] {
			return nil, bad(fmt.Sprintf("Bundle.entry[%d]", bi), "the Binary %s is not referenced by any DocumentReference", url)
		}
	}
	return sub, nil
}

func (s *Server) provide(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	sub, err := parseSubmission(body)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	ctx := r.Context()
	checked := make([]*archive.Checked, len(sub.docs))
	for i, d := range sub.docs {
		if checked[i], err = s.svc.Check(ctx, d.data); err != nil {
			s.archiveError(w, r, err, "")
			return
		}
	}
	for i, ch := range checked {
		if len(ch.Problem) > 0 {
			_, err := s.svc.ArchiveAll(ctx, c, checked) // refuses and logs
			s.archiveError(w, r, err, sub.docs[i].dataExpr)
			return
		}
	}
	for i, d := range sub.docs {
		if e := agree(d.ref, checked[i], fmt.Sprintf("Bundle.entry[%d].resource", d.refIndex)); e != nil {
			refusal := &archive.Error{Kind: archive.ErrInvalid, Index: i, Message: "metadata disagrees with the document: " + e.msg}
			if err := s.svc.Reject(ctx, c, checked, refusal); !errors.Is(err, archive.ErrInvalid) {
				s.archiveError(w, r, err, "")
				return
			}
			s.badRequest(w, e)
			return
		}
	}
	res, err := s.svc.ArchiveAll(ctx, c, checked)
	if err != nil {
		var ae *archive.Error
		expr := ""
		if errors.As(err, &ae) && ae.Index < len(sub.docs) {
			expr = fmt.Sprintf("Bundle.entry[%d].resource", sub.docs[ae.Index].refIndex)
		}
		s.archiveError(w, r, err, expr)
		return
	}
	out := &Bundle{ResourceType: "Bundle", Type: "transaction-response", Timestamp: instant(time.Now().UTC())}
	out.Entry = make([]BundleEntry, len(sub.entries))
	listOutcome, _ := json.Marshal(&OperationOutcome{ResourceType: "OperationOutcome", Issue: []OperationOutcomeIssue{{
		Severity: "information", Code: "informational", Diagnostics: "the submission set is recorded in the access log, not stored as a resource",
	}}})
	out.Entry[sub.listIndex] = BundleEntry{Response: &BundleResponse{Status: "200 OK", Outcome: listOutcome}}
	for i, d := range sub.docs {
		rec := res[i].Record
		status := "201 Created"
		if !res[i].Created {
			status = "200 OK"
		} else {
			s.m.archived.Inc()
		}
		out.Entry[d.refIndex] = BundleEntry{Response: &BundleResponse{
			Status: status, Location: "DocumentReference/" + rec.Header.ID, Etag: `W/"` + rec.SHA256 + `"`, LastModified: instant(rec.ReceivedAt),
		}}
		if d.binIndex >= 0 {
			out.Entry[d.binIndex] = BundleEntry{Response: &BundleResponse{Status: status, Location: "Binary/" + rec.Header.ID, Etag: `"` + rec.SHA256 + `"`}}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) badRequest(w http.ResponseWriter, err error) {
	var b *badRequest
	if errors.As(err, &b) {
		s.fail(w, b.status, issue(b.code, b.expr, "", b.msg))
		return
	}
	s.fail(w, http.StatusBadRequest, issue("invalid", "", "", err.Error()))
}

// agree checks that every metadata element the DocumentReference gives
// agrees with the document; elements left out are fine (MHD minimal
// metadata). It names the first element that disagrees.
func agree(ref *DocumentReference, ch *archive.Checked, path string) *badRequest {
	h := &ch.Doc.Header
	dis := func(field, format string, args ...any) *badRequest {
		return unprocessable("business-rule", path+"."+field, "%s disagrees with the CDA document: %s", field, fmt.Sprintf(format, args...))
	}
	if m := ref.MasterIdentifier; m != nil && m.Value != "" && m.Value != oidURN(h.ID) {
		return dis("masterIdentifier", "the document id is urn:oid:%s", h.ID)
	}
	if ref.Status != "" && ref.Status != "current" {
		return dis("status", "a newly archived document is current")
	}
	if sub := ref.Subject; sub != nil {
		if sub.Reference != "" && sub.Identifier == nil {
			return unprocessable("not-supported", path+".subject", "give the client by identifier (%s|<identity code>); the archive holds no Patient resources", SystemIdentityCode)
		}
		if id := sub.Identifier; id != nil && (id.System != oidURN(h.Client.ID.Root) || id.Value != h.Client.ID.Extension) {
			return dis("subject.identifier", "the client is not the document's client")
		}
	}
	if t := ref.Type; t != nil {
		want := h.SpecificType
		if want.Code == "" {
			want = h.DocumentGroup
		}
		for _, cd := range t.Coding {
			if cd.System == oidURN(want.System) && cd.Code != want.Code {
				return dis("type", "the document's type is %s", want.Code)
			}
		}
	}
	for i, cat := range ref.Category {
		for _, cd := range cat.Coding {
			switch cd.System {
			case oidURN(codes.OIDDocumentType):
				if cd.Code != h.GeneralType.Code {
					return dis(fmt.Sprintf("category[%d]", i), "the document's general type is %q", h.GeneralType.Code)
				}
			case oidURN(codes.OIDDocumentGroup):
				if cd.Code != h.DocumentGroup.Code {
					return dis(fmt.Sprintf("category[%d]", i), "the document's group is %s", h.DocumentGroup.Code)
				}
			}
		}
	}
	if cu := ref.Custodian; cu != nil && cu.Identifier != nil && cu.Identifier.Value != oidURN(h.Custodian.OID) {
		return dis("custodian.identifier", "the document's custodian is urn:oid:%s", h.Custodian.OID)
	}
	if ref.Date != "" {
		t, err := time.Parse(time.RFC3339Nano, ref.Date)
		if err != nil {
			return unprocessable("value", path+".date", "date must be an instant with zone, as 2026-03-23T10:54:24+02:00")
		}
		if !t.Truncate(time.Second).Equal(h.EffectiveTime.Truncate(time.Second)) {
			return dis("date", "the document's effective time is %s", instant(h.EffectiveTime))
		}
	}
	var replaces []DocumentReferenceRelatesTo
	for _, rt := range ref.RelatesTo {
		if rt.Code == "replaces" {
			replaces = append(replaces, rt)
		}
	}
	switch {
	case len(replaces) > 1:
		return dis("relatesTo", "a document replaces at most one version")
	case len(replaces) == 1 && h.Replaces == nil:
		return dis("relatesTo", "the document has no RPLC relation; a correction needs relatedDocument typeCode=RPLC in the CDA")
	case len(replaces) == 1:
		tg := replaces[0].Target
		target := strings.TrimPrefix(tg.Reference, "DocumentReference/")
		if tg.Identifier != nil {
			target = strings.TrimPrefix(tg.Identifier.Value, "urn:oid:")
		}
		if target != h.Replaces.ID {
			return dis("relatesTo[0].target", "the document replaces %s", h.Replaces.ID)
		}
	}
	return nil
}
