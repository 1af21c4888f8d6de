package fhirapi

import (
	"crypto/rand"
	"crypto/sha1" // FHIR R4 Attachment.hash is SHA-1
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
)

func uuidURN() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// uuidOID is the OID of a urn:uuid: URN under 2.25 (ITU-T X.667 /
// ISO/IEC 9834-8): 2.25 followed by the UUID as one decimal integer.
func uuidOID(urn string) string {
	h := strings.ReplaceAll(strings.TrimPrefix(urn, "urn:uuid:"), "-", "")
	n, ok := new(big.Int).SetString(h, 16)
	if !ok {
		panic("uuidOID: not a UUID: " + urn) // only called with uuidURN's output
	}
	return "urn:oid:2.25." + n.String()
}

// UnreadableError says which document of a submission cannot be read as a
// CDA document, and why.
type UnreadableError struct {
	Index  int // from 0
	Reason string
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("document %d cannot be read as a CDA document: %s", e.Index+1, e.Reason)
}

// The MHD 4.2 Minimal profiles a submission bundle claims, and the
// SubmissionSet's source id extension (IHE ITI TF-3 4.5.1 / MHD 2:3.65).
const (
	ProfileMinimalProvideBundle = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle"
	ProfileMinimalSubmissionSet = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.SubmissionSet"
	ExtensionSourceID           = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId"
)

// BundleOptions change what SubmissionBundleWith writes.
type BundleOptions struct {
	// NoPatch leaves out the UpdateDocumentRefs PATCH of each replaced
	// version: a correction is then recognised from its CDA alone, which
	// the archive accepts too.
	NoPatch bool
}

// SubmissionBundle wraps CDA documents in an ITI-65 Provide Document Bundle
// with metadata read from each document: SubmissionBundleWith with the
// default options.
func SubmissionBundle(docs ...[]byte) ([]byte, error) {
	return SubmissionBundleWith(BundleOptions{}, docs...)
}

// SubmissionBundleWith wraps CDA documents in an ITI-65 Provide Document
// Bundle with metadata read from each document: a SubmissionSet List, one
// DocumentReference and one Binary per document, and for a correction the
// UpdateDocumentRefs PATCH of the version it replaces (MHD 4.2
// 2:3.65.4.1.2.3), after the other entries. It is what a client
// information system sends; `arkisto bundle` and the tests use it. The
// Bundle, its SubmissionSet and its DocumentReferences claim the MHD
// Minimal profiles and carry what they require: the SubmissionSet's source
// id (the first document's custodian), its unique id and entry UUID, and
// its date; each DocumentReference's uniqueId, entryUUID (its fullUrl),
// the document's size, SHA-1 hash and creation time.
func SubmissionBundleWith(opt BundleOptions, docs ...[]byte) ([]byte, error) {
	b := &Bundle{ResourceType: "Bundle", Type: "transaction", Meta: &Meta{Profile: []string{ProfileMinimalProvideBundle}}}
	now := instant(time.Now().UTC())
	listURL := uuidURN()
	list := &List{
		ResourceType: "List", Status: "current", Mode: "working",
		Meta: &Meta{Profile: []string{ProfileMinimalSubmissionSet}},
		// entryUUID (official) a UUID; uniqueId (usual) an OID (MHD 4.2.3
		// IHE.MHD.SubmissionSetUniqueIdIdentifier): the UUID's own OID
		// under 2.25 (ITU-T X.667), so no OID root is needed.
		Identifier: []Identifier{
			{Use: "official", System: "urn:ietf:rfc:3986", Value: listURL},
			{Use: "usual", System: "urn:ietf:rfc:3986", Value: uuidOID(uuidURN())},
		},
		Code: &CodeableConcept{Coding: []Coding{{System: "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes", Code: "submissionset"}}},
		Date: now,
	}
	var entries, patches []BundleEntry
	for i, raw := range docs {
		d, probs := cda.Read(raw, cda.Options{})
		if d == nil || d.ID == "" {
			e := &UnreadableError{Index: i, Reason: "it has no document id"}
			if len(probs) > 0 {
				e.Reason = probs[0].Code + ": " + probs[0].Message
			}
			return nil, e
		}
		h := &d.Header
		refURL, binURL := uuidURN(), uuidURN()
		size := int64(len(raw))
		sum := sha1.Sum(raw)
		ref := &DocumentReference{
			ResourceType:     "DocumentReference",
			Meta:             &Meta{Profile: []string{ProfileMinimalDocumentReference}},
			MasterIdentifier: &Identifier{Use: "usual", System: SystemURI, Value: oidURN(h.ID)},
			// The entryUUID (MHD IHE.MHD.EntryUUID.Identifier): the entry's
			// fullUrl, which the archive keeps and returns.
			Identifier: []Identifier{{Use: "official", System: SystemURI, Value: refURL}},
			Status:     "current",
			Subject:    &Reference{Identifier: &Identifier{System: oidURN(h.Client.ID.Root), Value: h.Client.ID.Extension}},
			Date:       now, // when this reference is made (FHIR R4)
			Custodian:  &Reference{Identifier: &Identifier{System: SystemURI, Value: oidURN(h.Custodian.OID)}},
			Content: []DocumentReferenceContent{{Attachment: Attachment{
				ContentType: ContentCDA, URL: binURL, Size: &size,
				Hash: base64.StdEncoding.EncodeToString(sum[:]), Creation: instant(h.EffectiveTime),
			}}},
		}
		if c := concept(h.Confidentiality); c != nil {
			ref.SecurityLabel = []CodeableConcept{*c}
		}
		if h.DisplayFormat.Code != "" {
			ref.Content[0].Format = &Coding{System: oidURN(codes.OIDDisplayFormat), Code: h.DisplayFormat.Code, Display: h.DisplayFormat.Display}
		}
		if h.SpecificType.Code != "" {
			ref.Type = concept(h.SpecificType)
		} else {
			ref.Type = concept(h.DocumentGroup)
		}
		if p := h.Replaces; p != nil {
			ref.RelatesTo = []DocumentReferenceRelatesTo{{Code: "replaces", Target: Reference{Reference: "DocumentReference/" + p.ID}}}
			if !opt.NoPatch {
				pj, err := json.Marshal(supersedePatch())
				if err != nil {
					return nil, err
				}
				patches = append(patches, BundleEntry{FullURL: uuidURN(), Resource: pj, Request: &BundleRequest{Method: "PATCH", URL: "DocumentReference/" + p.ID}})
			}
		}
		if list.Subject == nil {
			list.Subject = ref.Subject
			list.Extension = []Extension{{URL: ExtensionSourceID, ValueIdentifier: &Identifier{System: SystemURI, Value: oidURN(h.Custodian.OID)}}}
		}
		rj, err := json.Marshal(ref)
		if err != nil {
			return nil, err
		}
		bj, err := json.Marshal(&Binary{ResourceType: "Binary", ContentType: ContentCDA, Data: base64.StdEncoding.EncodeToString(raw)})
		if err != nil {
			return nil, err
		}
		list.Entry = append(list.Entry, ListEntry{Item: Reference{Reference: refURL}})
		entries = append(entries,
			BundleEntry{FullURL: refURL, Resource: rj, Request: &BundleRequest{Method: "POST", URL: "DocumentReference"}},
			BundleEntry{FullURL: binURL, Resource: bj, Request: &BundleRequest{Method: "POST", URL: "Binary"}})
	}
	lj, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	b.Entry = append([]BundleEntry{{FullURL: listURL, Resource: lj, Request: &BundleRequest{Method: "POST", URL: "List"}}}, entries...)
	b.Entry = append(b.Entry, patches...)
	return json.MarshalIndent(b, "", "  ")
}

// patchParameters is the FHIRPath Patch of MHD's UpdateDocumentRefs entry.
type patchParameters struct {
	ResourceType string           `json:"resourceType"`
	Meta         *Meta            `json:"meta,omitempty"`
	Parameter    []patchParameter `json:"parameter"`
}

type patchParameter struct {
	Name        string           `json:"name"`
	ValueString string           `json:"valueString,omitempty"`
	ValueCode   string           `json:"valueCode,omitempty"`
	Part        []patchParameter `json:"part,omitempty"`
}

// supersedePatch is the UpdateDocumentRefs patch (IHE.MHD.Patch.Parameters):
// replace DocumentReference.status with superseded.
func supersedePatch() *patchParameters {
	return &patchParameters{ResourceType: "Parameters", Meta: &Meta{Profile: []string{ProfilePatchParameters}},
		Parameter: []patchParameter{{Name: "operation", Part: []patchParameter{
			{Name: "type", ValueCode: "replace"},
			{Name: "path", ValueString: "DocumentReference.status"},
			{Name: "value", ValueCode: "superseded"},
		}}}}
}
