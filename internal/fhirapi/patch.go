package fhirapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// RulePatch: a PATCH entry of a submission that is not the MHD
// UpdateDocumentRefs patch, or that supersedes another version than one
// the submission's documents replace.
const RulePatch = "BODY_PATCH"

// ProfilePatchParameters is the MHD 4.2 profile of the UpdateDocumentRefs
// patch (IHE.MHD.Patch.Parameters).
const ProfilePatchParameters = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Patch.Parameters"

// patchEntry is an UpdateDocumentRefs entry of a submission: the version
// it marks superseded.
type patchEntry struct {
	index  int    // entry index
	target string // the DocumentReference id
}

// parsePatch reads the UpdateDocumentRefs entry of an ITI-65 Provide
// Document Bundle (MHD 4.2 2:3.65.4.1.2.3; the Bundle profile's
// UpdateDocumentRefs slice): request PATCH DocumentReference/<id> (or the
// full URL under base), and a FHIRPath Patch Parameters resource
// (IHE.MHD.Patch.Parameters, FHIR R4 fhirpatch.html) of exactly one
// operation, replace DocumentReference.status with superseded. Anything
// else is refused, naming the element: a PATCH changes nothing but the
// status MHD lets it change.
func parsePatch(raw json.RawMessage, reqURL, base, path string) (string, error) {
	target, err := patchTarget(reqURL, base, path+".request.url")
	if err != nil {
		return "", err
	}
	o, err := readObject(raw, path+".resource", RulePatch)
	if err != nil {
		return "", err
	}
	if _, err := o.str("resourceType", true); err != nil {
		return "", err
	}
	if _, err := o.str("id", false); err != nil {
		return "", err
	}
	if m, err := o.obj("meta", false); err != nil {
		return "", err
	} else if m != nil {
		// meta.profile may claim the MHD profile; nothing else of meta.
		if _, _, err := m.take("profile", false); err != nil {
			return "", err
		}
		if err := m.done(); err != nil {
			return "", err
		}
	}
	if !o.has("parameter") {
		return "", &badRequest{status: http.StatusBadRequest, code: "required", expr: o.at("parameter"), rule: RulePatch,
			msg: o.at("parameter") + ": required: the UpdateDocumentRefs patch is a FHIRPath Patch Parameters resource of one operation (MHD 4.2 IHE.MHD.Patch.Parameters), not a JSON Patch"}
	}
	op, err := o.one("parameter", true, RulePatch, "parameter, the operation")
	if err != nil {
		return "", err
	}
	if err := o.done(); err != nil {
		return "", err
	}
	name, err := op.str("name", true)
	if err != nil {
		return "", err
	}
	if name != "operation" {
		return "", patchValue(op.at("name"), "a FHIRPath Patch parameter is named operation, not %q", clip(name))
	}
	parts, err := op.objs("part", true)
	if err != nil {
		return "", err
	}
	if err := op.done(); err != nil {
		return "", err
	}
	want := map[string]struct{ key, value string }{
		"type":  {"valueCode", "replace"},
		"path":  {"valueString", "DocumentReference.status"},
		"value": {"valueCode", "superseded"},
	}
	seen := map[string]bool{}
	for _, p := range parts {
		pname, err := p.str("name", true)
		if err != nil {
			return "", err
		}
		w, ok := want[pname]
		if !ok {
			return "", patchValue(p.at("name"), "the UpdateDocumentRefs patch has the parts type, path and value only, not %q", clip(pname))
		}
		if seen[pname] {
			return "", patchValue(p.at("name"), "the part %s is given twice", pname)
		}
		seen[pname] = true
		v, err := p.str(w.key, true)
		if err != nil {
			return "", err
		}
		if err := p.done(); err != nil {
			return "", err
		}
		if v != w.value {
			return "", patchValue(p.at(w.key), "a PATCH in a submission may only mark the version a new document replaces superseded: %s must be %q, not %q", pname, w.value, clip(v))
		}
	}
	for _, pname := range []string{"type", "path", "value"} {
		if !seen[pname] {
			return "", &badRequest{status: http.StatusBadRequest, code: "required", expr: op.at("part"), rule: RulePatch, msg: op.at("part") + ": the part " + pname + " is required"}
		}
	}
	return target, nil
}

// patchTarget reads the id a PATCH entry's request.url names.
func patchTarget(reqURL, base, expr string) (string, error) {
	u := strings.TrimPrefix(reqURL, strings.TrimSuffix(base, "/")+"/")
	id, ok := strings.CutPrefix(u, "DocumentReference/")
	if !ok || !fhirID.MatchString(id) {
		return "", patchValue(expr, "a PATCH in a submission names the DocumentReference it supersedes, as DocumentReference/<id>; not %q", clip(reqURL))
	}
	return id, nil
}

func patchValue(expr, format string, args ...any) *badRequest {
	return &badRequest{status: http.StatusUnprocessableEntity, code: "business-rule", expr: expr, rule: RulePatch, msg: expr + ": " + fmt.Sprintf(format, args...)}
}
