package fhirapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/jsoncodec"
)

func nowUTC() time.Time { return time.Now().UTC() }

func jsonMarshal(v any) (json.RawMessage, error) { return json.Marshal(v) }

// Version of the software, shown in the CapabilityStatement.
var Version = "0.1.0"

type capSearchParam struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	Documentation string `json:"documentation,omitempty"`
}

type capInteraction struct {
	Code string `json:"code"`
}

type capOperation struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

type capResource struct {
	Type string `json:"type"`
	// SupportedProfile: the profiles the resources served claim when
	// they conform (FHIR R4 capabilitystatement.html#profiles).
	SupportedProfile []string         `json:"supportedProfile,omitempty"`
	Interaction      []capInteraction `json:"interaction"`
	SearchParam      []capSearchParam `json:"searchParam,omitempty"`
	Operation        []capOperation   `json:"operation,omitempty"`
}

type capSecurity struct {
	Service     []CodeableConcept `json:"service"`
	Description string            `json:"description"`
}

type capRest struct {
	Mode        string           `json:"mode"`
	Security    capSecurity      `json:"security"`
	Resource    []capResource    `json:"resource"`
	Interaction []capInteraction `json:"interaction"`
}

type capSoftware struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type capImplementation struct {
	Description string `json:"description"`
	URL         string `json:"url"`
}

type CapabilityStatement struct {
	ResourceType   string            `json:"resourceType"`
	Status         string            `json:"status"`
	Instantiates   []string          `json:"instantiates,omitempty"`
	Date           string            `json:"date"`
	Publisher      string            `json:"publisher"`
	Kind           string            `json:"kind"`
	Software       capSoftware       `json:"software"`
	Implementation capImplementation `json:"implementation"`
	FHIRVersion    string            `json:"fhirVersion"`
	Format         []string          `json:"format"`
	Rest           []capRest         `json:"rest"`
}

var paramTypes = map[string]string{
	"date": "date", "period": "date", "creation": "date", "_lastUpdated": "date",
	"author.given": "string", "author.family": "string", "patient": "reference",
}

// The MHD 4.2 actors' CapabilityStatements the door instantiates: it is a
// Document Recipient (ITI-65) and a Document Responder (ITI-67, ITI-68).
// docs/api.md "MHD conformance" says where it deviates.
const (
	MHDDocumentRecipient = "https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentRecipient"
	MHDDocumentResponder = "https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentResponder"
)

// capabilities lists exactly what the door supports.
func (s *Server) capabilities() *CapabilityStatement {
	var docParams []capSearchParam
	for name, doc := range searchParams {
		if name == "_count" || name == "_cursor" || name == "_summary" {
			continue
		}
		t := paramTypes[name]
		if t == "" {
			t = "token"
		}
		docParams = append(docParams, capSearchParam{Name: name, Type: t, Documentation: doc})
	}
	sort.Slice(docParams, func(i, j int) bool { return docParams[i].Name < docParams[j].Name })
	var listParamsCap []capSearchParam
	for name, doc := range listParams {
		if name == "_count" || name == "_cursor" || name == "_summary" {
			continue
		}
		t := map[string]string{"patient": "reference", "date": "date", "source.given": "string", "source.family": "string"}[name]
		if t == "" {
			t = "token"
		}
		listParamsCap = append(listParamsCap, capSearchParam{Name: name, Type: t, Documentation: doc})
	}
	sort.Slice(listParamsCap, func(i, j int) bool { return listParamsCap[i].Name < listParamsCap[j].Name })
	return &CapabilityStatement{
		ResourceType:   "CapabilityStatement",
		Status:         "active",
		Instantiates:   []string{MHDDocumentRecipient, MHDDocumentResponder},
		Date:           "2026-11-22",
		Publisher:      "arkisto",
		Kind:           "instance",
		Software:       capSoftware{Name: "arkisto", Version: Version},
		Implementation: capImplementation{Description: "arkisto social welfare client data archive (IHE MHD document responder, IHE BALP audit)", URL: s.cfg.BaseURL},
		FHIRVersion:    "4.0.1",
		Format:         []string{ContentFHIRJSON},
		Rest: []capRest{{
			Mode: "server",
			Security: capSecurity{
				Service:     []CodeableConcept{{Coding: []Coding{{System: "http://terminology.hl7.org/CodeSystem/restful-security-service", Code: "Certificates"}}}},
				Description: "Mutual TLS with the client information system's registered certificate; every request but GET /fhir/metadata carries Authorization: Bearer <JWT> signed by that system's key, naming the acting professional (sub, name, unit, purpose, iat, exp ≤ iat+10 min, single-use jti).",
			},
			Resource: []capResource{
				{
					Type:             "DocumentReference",
					SupportedProfile: []string{ProfileMinimalDocumentReference},
					Interaction:      []capInteraction{{Code: "read"}, {Code: "search-type"}},
					SearchParam:      docParams,
					Operation: []capOperation{
						{Name: "nullify", Definition: extBase[:len(extBase)-len("StructureDefinition/")] + "OperationDefinition/DocumentReference-nullify"},
						{Name: "versions", Definition: extBase[:len(extBase)-len("StructureDefinition/")] + "OperationDefinition/DocumentReference-versions"},
					},
				},
				{Type: "Binary", Interaction: []capInteraction{{Code: "read"}}},
				{
					// ITI-66 Find Document Lists: the kept SubmissionSets.
					Type:        "List",
					Interaction: []capInteraction{{Code: "read"}, {Code: "search-type"}},
					SearchParam: listParamsCap,
				},
				{
					Type:        "Patient",
					Interaction: []capInteraction{{Code: "read"}, {Code: "search-type"}},
					SearchParam: []capSearchParam{
						{Name: "identifier", Type: "token", Documentation: patientParams["identifier"] + "; only a client the caller may use documents of"},
						{Name: "_id", Type: "token", Documentation: patientParams["_id"]},
					},
				},
				{
					Type:        "AuditEvent",
					Interaction: []capInteraction{{Code: "read"}, {Code: "search-type"}},
					SearchParam: []capSearchParam{
						{Name: "patient", Type: "reference", Documentation: "the client as Patient/<id> (this, patient.identifier, or both ends of date is required)"},
						{Name: "patient.identifier", Type: "token", Documentation: "the client"},
						{Name: "type", Type: "token", Documentation: SystemAuditType + "|" + auditDisclosure + ": the disclosure log; default the access log (rest)"},
						{Name: "date", Type: "date", Documentation: "when the entry was logged"},
						{Name: "subtype", Type: "token", Documentation: "the IHE transaction (" + sysIHEEventType + "|ITI-65 ... ITI-68) or the RESTful interaction"},
						{Name: "agent", Type: "reference", Documentation: "the professional or the system, by identifier (as agent:identifier)"},
						{Name: "entity", Type: "reference", Documentation: "a document: DocumentReference/<id>"},
						{Name: "outcome", Type: "token", Documentation: "0 or 4"},
						{Name: "_id", Type: "token", Documentation: "one entry"},
					},
				},
				{
					Type:        "Consent",
					Interaction: []capInteraction{{Code: "create"}, {Code: "read"}, {Code: "search-type"}},
					SearchParam: []capSearchParam{
						{Name: "patient.identifier", Type: "token", Documentation: "the client (required)"},
						{Name: "status", Type: "token", Documentation: "active, inactive (a comma list; default active)"},
					},
					Operation: []capOperation{
						{Name: "withdraw", Definition: extBase[:len(extBase)-len("StructureDefinition/")] + "OperationDefinition/Consent-withdraw"},
					},
				},
			},
			Interaction: []capInteraction{{Code: "transaction"}},
		}},
	}
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request, _ archive.Caller) {
	// The statement never changes while the door runs: built once.
	s.capOnce.Do(func() { s.capJSON, s.capErr = jsoncodec.Marshal(s.capabilities()) })
	if s.capErr != nil {
		http.Error(w, "cannot encode the response", http.StatusInternalServerError)
		return
	}
	ct := ContentFHIRJSON
	if nw, ok := w.(*negotiatedWriter); ok {
		ct = nw.ctype
	}
	w.Header().Set("Content-Type", ct+"; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(s.capJSON)
}
