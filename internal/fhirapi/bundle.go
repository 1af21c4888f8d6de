package fhirapi

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
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

// SubmissionBundle wraps CDA documents in an ITI-65 Provide Document Bundle
// with metadata read from each document: a SubmissionSet List, one
// DocumentReference and one Binary per document. It is what a client
// information system sends; `arkisto bundle` and the tests use it. The
// Bundle and its SubmissionSet claim the MHD Minimal profiles and carry
// what they require: the SubmissionSet's source id (the first document's
// custodian), its unique id and entry UUID, and its date.
func SubmissionBundle(docs ...[]byte) ([]byte, error) {
	b := &Bundle{ResourceType: "Bundle", Type: "transaction", Meta: &Meta{Profile: []string{ProfileMinimalProvideBundle}}}
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
		Date: instant(time.Now().UTC()),
	}
	var entries []BundleEntry
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
		ref := &DocumentReference{
			ResourceType:     "DocumentReference",
			MasterIdentifier: &Identifier{Use: "usual", System: SystemURI, Value: oidURN(h.ID)},
			Status:           "current",
			Subject:          &Reference{Identifier: &Identifier{System: oidURN(h.Client.ID.Root), Value: h.Client.ID.Extension}},
			Date:             instant(h.EffectiveTime),
			Custodian:        &Reference{Identifier: &Identifier{System: SystemURI, Value: oidURN(h.Custodian.OID)}},
			Content:          []DocumentReferenceContent{{Attachment: Attachment{ContentType: ContentCDA, URL: binURL}}},
		}
		if h.SpecificType.Code != "" {
			ref.Type = concept(h.SpecificType)
		} else {
			ref.Type = concept(h.DocumentGroup)
		}
		if p := h.Replaces; p != nil {
			ref.RelatesTo = []DocumentReferenceRelatesTo{{Code: "replaces", Target: Reference{Reference: "DocumentReference/" + p.ID}}}
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
	return json.MarshalIndent(b, "", "  ")
}
