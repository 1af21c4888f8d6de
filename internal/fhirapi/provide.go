package fhirapi

import (
	"bytes"
	"crypto/sha1" // FHIR R4 Attachment.hash is SHA-1; it is compared, not trusted
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/progress"
)

// readBody reads a JSON request body, the resource root, within the size
// and shape limits; it answers the request itself (413, 400, 415) and
// returns false when it cannot.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, root string) ([]byte, bool) {
	if !s.checkJSONBody(w, r) {
		return nil, false
	}
	body, err := s.readJSON(w, r, root)
	if err != nil {
		s.bodyError(w, r, err)
		return nil, false
	}
	return body, true
}

// readJSON reads the body through scanJSON: a body that is not one JSON
// value, repeats a key or exceeds a shape limit is refused as soon as
// that shows, before anything is decoded.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, root string) ([]byte, error) {
	return scanJSON(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), shapeLimits{
		root: root, size: r.ContentLength, entries: 3*s.cfg.MaxSubmissionDocuments + 1, depth: defaultMaxDepth, members: defaultMaxMembers,
	})
}

// bodyError answers a body that readJSON or the parsing refused.
func (s *Server) bodyError(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	var b *badRequest
	switch {
	case errors.As(err, &tooBig):
		s.fail(w, http.StatusRequestEntityTooLarge, issue("too-long", "Bundle", "BODY_TOO_LARGE", fmt.Sprintf("the request body is larger than the limit of %s (%d bytes)", progress.Size(s.cfg.MaxBodyBytes), s.cfg.MaxBodyBytes)))
	case errors.As(err, &b):
		s.badRequest(w, err)
	default:
		// The body could not be read: most often the client went away.
		s.log.DebugContext(r.Context(), "request body not read", "route", r.Pattern, "err", err)
		s.fail(w, http.StatusBadRequest, issue("invalid", "", "", "the request body could not be read"))
	}
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

// entry is a decoded submission entry: one of list, ref and bin is set.
type entry struct {
	fullURL string
	request *BundleRequest
	typ     string
	list    *List
	ref     *DocumentReference
	bin     *Binary
	b64     []byte          // the Binary's data as sent, base64; bin.Data is left empty
	raw     json.RawMessage // an AuditEvent or Provenance of a disclosure notice, read strictly later
}

// submission is a parsed ITI-65 Provide Document Bundle.
type submission struct {
	listIndex int
	list      *List
	docs      []*submittedDoc
	patches   []patchEntry // UpdateDocumentRefs entries, in order
	entries   int
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
	rule       string // the archive's rule code, when there is one
	msg        string
}

func (e *badRequest) Error() string { return e.msg }

func bad(expr, format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusBadRequest, code: "structure", expr: expr, msg: fmt.Sprintf(format, args...)}
}

func unprocessable(code, expr, format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusUnprocessableEntity, code: code, expr: expr, msg: fmt.Sprintf(format, args...)}
}

// parseSubmission reads an ITI-65 Provide Document Bundle sent to base.
func parseSubmission(body []byte, base string) (*submission, error) {
	entries, err := decodeSubmission(body)
	if err != nil {
		return nil, err
	}
	return checkSubmission(entries, base)
}

// decodeSubmission decodes a Bundle and each of its resources by its type.
// A Bundle is read in one pass when it can be (decodeSubmissionFast);
// anything else, every refusal included, is decoded by decodeSubmissionStd,
// which words the refusal.
func decodeSubmission(body []byte) ([]entry, error) {
	if out, ok := decodeSubmissionFast(body); ok {
		return out, nil
	}
	return decodeSubmissionStd(body)
}

// decodeSubmissionStd decodes the Bundle with encoding/json, and then
// each resource again by its type.
func decodeSubmissionStd(body []byte) ([]entry, error) {
	var b rawBundle
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, bad("Bundle", "the body is not a JSON FHIR resource: %v", err)
	}
	if err := checkBundle(b.ResourceType, b.Type, len(b.Entry)); err != nil {
		return nil, err
	}
	out := make([]entry, len(b.Entry))
	for i, e := range b.Entry {
		path := fmt.Sprintf("Bundle.entry[%d]", i)
		out[i] = entry{fullURL: e.FullURL, request: e.Request}
		typ, ok := resourceType(e.Resource)
		if !ok {
			return nil, bad(path+".resource", "each entry needs a resource")
		}
		out[i].typ = typ
		var err error
		var decoded string // the resourceType as the decoding saw it
		switch typ {
		case "List":
			out[i].list = &List{}
			err = json.Unmarshal(e.Resource, out[i].list)
			decoded = out[i].list.ResourceType
		case "DocumentReference":
			out[i].ref = &DocumentReference{}
			err = json.Unmarshal(e.Resource, out[i].ref)
			decoded = out[i].ref.ResourceType
		case "Binary":
			out[i].bin = &Binary{}
			err = json.Unmarshal(e.Resource, out[i].bin)
			decoded = out[i].bin.ResourceType
			out[i].b64, out[i].bin.Data = []byte(out[i].bin.Data), ""
		case "AuditEvent", "Provenance":
			out[i].raw = e.Resource // a disclosure notice (isDisclosureNotice); refused by checkSubmission otherwise
			continue
		case "Parameters":
			out[i].raw = e.Resource // an UpdateDocumentRefs patch, read strictly by checkSubmission
			continue
		default:
			continue // refused by checkSubmission, which names the type
		}
		if err != nil {
			return nil, bad(path+".resource", "the %s does not decode: %v", typ, err)
		}
		if decoded != typ {
			return nil, bad(path+".resource.resourceType", "the resource has more than one resourceType")
		}
	}
	return out, nil
}

// resourceType returns the type of a resource. A resource that starts
// with its resourceType, as clients write it, is not decoded for it: a
// Binary holds the whole document, and each pass over it counts. Any other
// resource is decoded for it. decodeSubmission then decodes the resource
// as that type and requires the same resourceType: a second one, later in
// the resource, would win there, and the resource is refused.
func resourceType(raw json.RawMessage) (string, bool) {
	const prefix = `{"resourceType":"`
	if rest, ok := bytes.CutPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte(prefix)); ok {
		i := 0
		for i < len(rest) && i < 64 && ('A' <= rest[i] && rest[i] <= 'Z' || 'a' <= rest[i] && rest[i] <= 'z') {
			i++
		}
		if i > 0 && i < len(rest) && rest[i] == '"' {
			return string(rest[:i]), true
		}
	}
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &head) != nil {
		return "", false
	}
	return head.ResourceType, true
}

func checkBundle(resourceType, typ string, entries int) error {
	if resourceType != "Bundle" {
		return bad("Bundle.resourceType", "POST /fhir takes a Bundle, not %q", resourceType)
	}
	if typ != "transaction" {
		return bad("Bundle.type", "an ITI-65 Provide Document Bundle must have type transaction, not %q", typ)
	}
	if entries == 0 {
		return bad("Bundle.entry", "the Bundle has no entries")
	}
	return nil
}

// checkSubmission checks the decoded entries of a submission sent to base.
func checkSubmission(entries []entry, base string) (*submission, error) {
	sub := &submission{listIndex: -1, entries: len(entries)}
	binaries := map[string]int{}
	patched := map[string]int{}
	for i, e := range entries {
		path := fmt.Sprintf("Bundle.entry[%d]", i)
		if e.typ == "" {
			return nil, bad(path+".resource", "each entry needs a resource, with its resourceType")
		}
		if e.typ == "Parameters" {
			// MHD 4.2 2:3.65.4.1.2.3: the UpdateDocumentRefs entry, a PATCH
			// marking the replaced version superseded.
			if e.request == nil || e.request.Method != http.MethodPatch {
				return nil, bad(path+".request.method", "a Parameters entry of a submission is the UpdateDocumentRefs PATCH of the replaced DocumentReference (MHD 4.2)")
			}
			target, err := parsePatch(e.raw, e.request.URL, base, path)
			if err != nil {
				return nil, err
			}
			if j, ok := patched[target]; ok {
				return nil, patchValue(path+".request.url", "entry %d already marks %s superseded", j, target)
			}
			patched[target] = i
			sub.patches = append(sub.patches, patchEntry{index: i, target: target})
			continue
		}
		if e.request == nil || e.request.Method != http.MethodPost {
			return nil, bad(path+".request.method", "every entry of the submission but the UpdateDocumentRefs PATCH must be a POST")
		}
		switch e.typ {
		case "List":
			if sub.list != nil {
				return nil, bad(path, "a submission has exactly one SubmissionSet List")
			}
			sub.list, sub.listIndex = e.list, i
		case "DocumentReference":
			sub.docs = append(sub.docs, &submittedDoc{refIndex: i, ref: e.ref, binIndex: -1})
		case "Binary":
			if e.fullURL == "" {
				return nil, bad(path+".fullUrl", "a Binary needs a fullUrl for its DocumentReference to point at")
			}
			binaries[e.fullURL] = i
		default:
			return nil, bad(path+".resource.resourceType", "a submission holds a List, DocumentReferences, Binaries and UpdateDocumentRefs Parameters, not %s", e.typ)
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
		if !listed[entries[d.refIndex].fullURL] || entries[d.refIndex].fullURL == "" {
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
			bin := entries[bi].bin
			bpath := fmt.Sprintf("Bundle.entry[%d].resource", bi)
			if bin.ContentType != ContentCDA {
				return nil, unprocessable("value", bpath+".contentType", "the Binary must hold a CDA document, contentType %s, not %q", ContentCDA, bin.ContentType)
			}
			// Decoded from the body's own bytes (decodeSubmissionFast
			// leaves them there), not from a string copy of them.
			b64 := entries[bi].b64
			data := make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
			n, err := base64.StdEncoding.Decode(data, b64)
			data = data[:n]
			if err != nil || len(data) == 0 {
				return nil, bad(bpath+".data", "the Binary's data must be the base64 of the CDA document")
			}
			d.data, d.binIndex, d.dataExpr = data, bi, bpath+".data"
		default:
			return nil, bad(path+".content[0].attachment", "the attachment needs url (a Binary in the Bundle) or data")
		}
	}
	for _, d := range sub.docs {
		if err := checkAttachment(&d.ref.Content[0].Attachment, d.data, fmt.Sprintf("Bundle.entry[%d].resource.content[0].attachment", d.refIndex)); err != nil {
			return nil, err
		}
	}
	for url, bi := range binaries {
		if !used[bi] {
			return nil, bad(fmt.Sprintf("Bundle.entry[%d]", bi), "the Binary %s is not referenced by any DocumentReference", url)
		}
	}
	return sub, nil
}

// Rule codes of attachment metadata.
const (
	RuleAttachmentSize = "BODY_ATTACHMENT_SIZE"
	RuleAttachmentHash = "BODY_ATTACHMENT_HASH"
)

// checkAttachment checks the size and hash an attachment gives, when it
// gives them, against the document's bytes: metadata that describes other
// bytes than those sent is refused rather than ignored.
func checkAttachment(att *Attachment, data []byte, path string) *badRequest {
	if att.Size != nil && *att.Size != int64(len(data)) {
		b := unprocessable("value", path+".size", "attachment.size is %d, the document has %d bytes", *att.Size, len(data))
		b.rule = RuleAttachmentSize
		return b
	}
	if att.Hash != "" {
		want, err := base64.StdEncoding.DecodeString(att.Hash)
		if err != nil || len(want) != sha1.Size {
			b := unprocessable("value", path+".hash", "attachment.hash must be the base64 of the 20-byte SHA-1 of the document (FHIR R4)")
			b.rule = RuleAttachmentHash
			return b
		}
		if got := sha1.Sum(data); !bytes.Equal(got[:], want) {
			b := unprocessable("value", path+".hash", "attachment.hash is not the SHA-1 of the document")
			b.rule = RuleAttachmentHash
			return b
		}
	}
	return nil
}

func (s *Server) provide(w http.ResponseWriter, r *http.Request, c archive.Caller) {
	// At most so many submissions of one system at once: each holds its
	// body and documents in memory.
	if !s.busy.acquire(c.System) {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		s.fail(w, http.StatusTooManyRequests, issue("throttled", "", RuleBusy, fmt.Sprintf("this system already has %d submissions in progress, the most the archive takes from one system at once; retry after %d seconds", s.cfg.MaxConcurrentSubmissions, retryAfterSeconds)))
		return
	}
	defer s.busy.release(c.System)
	if !s.checkJSONBody(w, r) {
		return
	}
	ctx := r.Context()
	body, err := s.readJSON(w, r, "Bundle")
	var sub *submission
	var entries []entry
	if err == nil {
		entries, err = decodeSubmission(body)
	}
	if err == nil && isDisclosureNotice(entries) {
		// A transaction of AuditEvents and Provenances only is a
		// disclosure notice; everything else is judged as ITI-65.
		s.disclosureNotice(w, r, c, entries)
		return
	}
	if err == nil {
		sub, err = checkSubmission(entries, s.cfg.BaseURL)
	}
	if err == nil && len(sub.docs) > s.cfg.MaxSubmissionDocuments {
		err = shapeError(RuleTooManyDocuments, "Bundle.entry", "a submission holds at most %d documents, this one %d", s.cfg.MaxSubmissionDocuments, len(sub.docs))
	}
	if err != nil {
		// A submission too large to take is logged: one entry, however
		// many documents it held. (Other malformed bodies name nothing.)
		var b *badRequest
		var tooBig *http.MaxBytesError
		why := ""
		switch {
		case errors.As(err, &b) && b.status == http.StatusRequestEntityTooLarge:
			why = b.msg
		case errors.As(err, &tooBig):
			why = fmt.Sprintf("the body is larger than %s", progress.Size(s.cfg.MaxBodyBytes))
		}
		if why != "" {
			refusal := &archive.Error{Kind: archive.ErrInvalid, Message: "submission refused for its size: " + why}
			if err := s.svc.RefuseUnread(ctx, c, refusal); !errors.Is(err, archive.ErrInvalid) {
				s.archiveError(w, r, err, "")
				return
			}
		}
		s.bodyError(w, r, err)
		return
	}
	listPath := fmt.Sprintf("Bundle.entry[%d].resource", sub.listIndex)
	meta, err := listMeta(sub.list, listPath)
	if err != nil {
		s.badRequest(w, err)
		return
	}
	if h := s.submitHook.Load(); h != nil {
		(*h)(ctx, c.System)
	}
	docs := make([][]byte, len(sub.docs))
	for i, d := range sub.docs {
		docs[i] = d.data
	}
	patchOf := map[string]int{} // the version a PATCH supersedes → its place in sub.patches
	for k, p := range sub.patches {
		patchOf[p.target] = k
	}
	matched := make([]bool, len(sub.patches))
	agreement := func(i int, ch *archive.Checked) error {
		patient, err := s.svc.PatientID(ctx, archive.ClientKey(ch.Doc.Header.Client.ID))
		if err != nil {
			return err
		}
		if e := s.agree(sub.docs[i].ref, ch, fmt.Sprintf("Bundle.entry[%d].resource", sub.docs[i].refIndex), patient, time.Now()); e != nil {
			return e
		}
		if e := s.agreeList(sub.list, listPath, ch.Doc.Header.Client.ID.Root, ch.Doc.Header.Client.ID.Extension, patient); e != nil {
			return e
		}
		if p := ch.Doc.Header.Replaces; p != nil {
			if k, ok := patchOf[p.ID]; ok {
				matched[k] = true
			}
		}
		if i == len(sub.docs)-1 {
			// Every PATCH supersedes a version a new document of this
			// submission replaces, and nothing else: the replacement (the
			// CDA's RPLC) is what supersedes it, checked and logged as one.
			for k, ok := range matched {
				if !ok {
					p := sub.patches[k]
					return patchValue(fmt.Sprintf("Bundle.entry[%d].request.url", p.index), "the PATCH marks DocumentReference/%s superseded, but no document of this submission replaces it: a PATCH may only supersede the version a new document in the same transaction replaces (its CDA's relatedDocument typeCode=RPLC)", p.target)
				}
			}
		}
		return nil
	}
	res, sets, err := s.svc.Provide(ctx, c, docs, agreement, meta)
	if err != nil {
		var b *badRequest
		var ae *archive.Error
		switch {
		case errors.As(err, &b):
			s.badRequest(w, b) // the metadata disagrees with the document
		case errors.As(err, &ae) && ae.Index < len(sub.docs) && ae.Inspection:
			s.archiveError(w, r, err, sub.docs[ae.Index].dataExpr)
		case errors.As(err, &ae) && ae.Index < len(sub.docs):
			s.archiveError(w, r, err, fmt.Sprintf("Bundle.entry[%d].resource", sub.docs[ae.Index].refIndex))
		default:
			s.archiveError(w, r, err, "")
		}
		return
	}
	out := &Bundle{ResourceType: "Bundle", Type: "transaction-response", Timestamp: instant(time.Now().UTC())}
	out.Entry = make([]BundleEntry, sub.entries)
	out.Entry[sub.listIndex] = s.listResponse(sets)
	for _, p := range sub.patches {
		// The replaced version, superseded by its replacement.
		out.Entry[p.index] = BundleEntry{Response: &BundleResponse{Status: "200 OK", Location: "DocumentReference/" + p.target}}
	}
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

// agreeSubject checks DocumentReference.subject.reference: the document's
// client as Patient/<id> (the id the archive gives the client, see
// GET /fhir/Patient), or #<id> of a Patient contained in the
// DocumentReference carrying the client's identifier (MHD 4.2
// 2:3.65.4.1.2.1 allows the subject as a reference the Recipient can
// resolve, or a contained Patient).
func (s *Server) agreeSubject(ref *DocumentReference, h *cda.Header, path, patientID string) *badRequest {
	sub := ref.Subject
	if sub.Reference == "" {
		return nil
	}
	if local, ok := strings.CutPrefix(sub.Reference, "#"); ok {
		for i, raw := range ref.Contained {
			var p struct {
				ResourceType string       `json:"resourceType"`
				ID           string       `json:"id"`
				Identifier   []Identifier `json:"identifier"`
			}
			if err := json.Unmarshal(raw, &p); err != nil || p.ResourceType != "Patient" || p.ID != local {
				continue
			}
			for _, id := range p.Identifier {
				if id.System == oidURN(h.Client.ID.Root) && id.Value == h.Client.ID.Extension {
					return nil
				}
			}
			return unprocessable("business-rule", fmt.Sprintf("%s.contained[%d].identifier", path, i), "the contained Patient's identifiers do not include the document's client (%s|<its id>)", oidURN(h.Client.ID.Root))
		}
		return unprocessable("not-found", path+".subject.reference", "no contained Patient with id %q", local)
	}
	id, ok := s.patientRef(sub.Reference)
	if !ok {
		return unprocessable("not-supported", path+".subject.reference", "give the client as Patient/<id> (GET /fhir/Patient?identifier=%s|<identity code> gives the id), as a contained Patient, or by identifier", SystemIdentityCode)
	}
	if id != patientID {
		return unprocessable("business-rule", path+".subject.reference", "subject.reference disagrees with the CDA document: the client is not the document's client")
	}
	return nil
}

func (s *Server) badRequest(w http.ResponseWriter, err error) {
	var b *badRequest
	if errors.As(err, &b) {
		s.fail(w, b.status, issue(b.code, b.expr, b.rule, b.msg))
		return
	}
	s.fail(w, http.StatusBadRequest, issue("invalid", "", "", err.Error()))
}

// agree checks that every metadata element the DocumentReference gives
// agrees with the document; elements left out are fine (MHD minimal
// metadata). It names the first element that disagrees. What the archive
// keeps as the source sent it goes into ch.Source.
func (s *Server) agree(ref *DocumentReference, ch *archive.Checked, path, patientID string, now time.Time) *badRequest {
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
		if e := s.agreeSubject(ref, h, path, patientID); e != nil {
			return e
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
	// date is when the reference was made (FHIR R4), not the document's
	// time: agreeSource keeps it; attachment.creation is compared instead.
	var replaces []int
	for i, rt := range ref.RelatesTo {
		field := fmt.Sprintf("relatesTo[%d].code", i)
		switch rt.Code {
		case "replaces":
			replaces = append(replaces, i)
		case "transforms", "signs", "appends":
			// MHD 4.2 2:3.65.4.1.3 lets a Recipient that does not support a
			// code process the rest with a warning; the archive refuses
			// instead, so that no relation is lost or taken as another.
			b := unprocessable("not-supported", path+"."+field, "relatesTo.code %q is not supported: the archive records a relation between versions only as a replacement (replaces, the CDA's relatedDocument typeCode=RPLC); send the document without it, or as a replacement", clip(rt.Code))
			b.rule = RuleRelatesTo
			return b
		default:
			b := unprocessable("code-invalid", path+"."+field, "relatesTo.code must be a FHIR R4 document-relationship-type code (replaces, transforms, signs, appends), not %q", clip(rt.Code))
			b.rule = RuleRelatesTo
			return b
		}
	}
	switch {
	case len(replaces) > 1:
		return dis(fmt.Sprintf("relatesTo[%d]", replaces[1]), "a document replaces at most one version")
	case len(replaces) == 1 && h.Replaces == nil:
		return dis(fmt.Sprintf("relatesTo[%d]", replaces[0]), "the document has no RPLC relation; a correction needs relatedDocument typeCode=RPLC in the CDA")
	case len(replaces) == 1:
		tg := ref.RelatesTo[replaces[0]].Target
		target := strings.TrimPrefix(tg.Reference, "DocumentReference/")
		if tg.Identifier != nil {
			target = strings.TrimPrefix(tg.Identifier.Value, "urn:oid:")
		}
		if target != h.Replaces.ID {
			return dis(fmt.Sprintf("relatesTo[%d].target", replaces[0]), "the document replaces %s", h.Replaces.ID)
		}
	}
	src, e := agreeSource(ref, h, path, now)
	if e != nil {
		return e
	}
	ch.Source = src
	return nil
}

// listResponse is the transaction response's entry of the SubmissionSet
// List: 201 with its location (200 when the same submission was kept
// before). A submission whose documents concern several clients is kept as
// one set per client; the entry names the first, and says where the others
// are.
func (s *Server) listResponse(sets []archive.SubmittedSet) BundleEntry {
	if len(sets) == 0 {
		// Not reached: Provide keeps a set for every submission it accepts.
		return BundleEntry{Response: &BundleResponse{Status: "200 OK"}}
	}
	first := sets[0]
	status := "201 Created"
	if !first.Created {
		status = "200 OK"
	}
	// No etag: a List's version is of what a caller sees of it (its
	// documents may change, or be hidden from another caller), which a
	// read tells.
	e := BundleEntry{Response: &BundleResponse{Status: status, Location: "List/" + first.Set.ID, LastModified: instant(first.Set.ReceivedAt)}}
	if len(sets) > 1 {
		var others []string
		for _, o := range sets[1:] {
			others = append(others, "List/"+o.Set.ID)
		}
		oo, _ := json.Marshal(&OperationOutcome{ResourceType: "OperationOutcome", Issue: []OperationOutcomeIssue{{
			Severity: "information", Code: "informational",
			Diagnostics: "the documents concern several clients: the submission set is kept once per client, also as " + strings.Join(others, ", "),
		}}})
		e.Response.Outcome = oo
	}
	return e
}
