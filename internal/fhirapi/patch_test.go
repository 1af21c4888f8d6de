package fhirapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

const goodPatch = `{"resourceType":"Parameters","meta":{"profile":["https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Patch.Parameters"]},
 "parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"DocumentReference.status"},{"name":"value","valueCode":"superseded"}]}]}`

// TestParsePatch: the UpdateDocumentRefs patch of MHD 4.2, and nothing
// else, each refusal naming the element and its rule.
func TestParsePatch(t *testing.T) {
	const base = "https://arkisto.test/fhir"
	tests := []struct {
		name, body, url string
		target          string // accepted: the version it supersedes
		status          int
		expr            string
	}{
		{"the MHD patch", goodPatch, "DocumentReference/1.2.3", "1.2.3", 0, ""},
		{"parts in another order", `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"value","valueCode":"superseded"},{"name":"type","valueCode":"replace"},{"name":"path","valueString":"DocumentReference.status"}]}]}`, "DocumentReference/1.2.3", "1.2.3", 0, ""},
		{"the full URL", goodPatch, base + "/DocumentReference/1.2.4", "1.2.4", 0, ""},
		{"another server's URL", goodPatch, "https://elsewhere.test/fhir/DocumentReference/1.2.4", "", 422, "P.request.url"},
		{"another resource type", goodPatch, "Consent/1", "", 422, "P.request.url"},
		{"a conditional URL", goodPatch, "DocumentReference?identifier=x", "", 422, "P.request.url"},
		{"no id", goodPatch, "DocumentReference/", "", 422, "P.request.url"},
		{"another path", strings.Replace(goodPatch, "DocumentReference.status", "DocumentReference.subject", 1), "DocumentReference/1", "", 422, "P.resource.parameter[0].part[1].valueString"},
		{"another value", strings.Replace(goodPatch, `"superseded"`, `"current"`, 1), "DocumentReference/1", "", 422, "P.resource.parameter[0].part[2].valueCode"},
		{"another type", strings.Replace(goodPatch, `"replace"`, `"delete"`, 1), "DocumentReference/1", "", 422, "P.resource.parameter[0].part[0].valueCode"},
		{"the value as a string", strings.Replace(goodPatch, `"valueCode":"superseded"`, `"valueString":"superseded"`, 1), "DocumentReference/1", "", 400, "P.resource.parameter[0].part[2].valueCode"},
		{"a part twice", strings.Replace(goodPatch, `{"name":"type","valueCode":"replace"}`, `{"name":"type","valueCode":"replace"},{"name":"type","valueCode":"replace"}`, 1), "DocumentReference/1", "", 422, "P.resource.parameter[0].part[1].name"},
		{"a part missing", strings.Replace(goodPatch, `{"name":"type","valueCode":"replace"},`, ``, 1), "DocumentReference/1", "", 400, "P.resource.parameter[0].part"},
		{"another parameter name", strings.Replace(goodPatch, `"operation"`, `"op"`, 1), "DocumentReference/1", "", 422, "P.resource.parameter[0].name"},
		{"an element the archive does not take", strings.Replace(goodPatch, `"resourceType":"Parameters",`, `"resourceType":"Parameters","text":{"status":"generated"},`, 1), "DocumentReference/1", "", 400, "P.resource.text"},
		{"an extension on the operation", strings.Replace(goodPatch, `{"name":"operation",`, `{"extension":[{"url":"x"}],"name":"operation",`, 1), "DocumentReference/1", "", 400, "P.resource.parameter[0].extension"},
		{"a JSON Patch", `[{"op":"replace","path":"/status","value":"superseded"}]`, "DocumentReference/1", "", 400, "P.resource"},
		{"no parameter", `{"resourceType":"Parameters"}`, "DocumentReference/1", "", 400, "P.resource.parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := parsePatch([]byte(tt.body), tt.url, base, "P")
			if tt.status == 0 {
				if err != nil || target != tt.target {
					t.Fatalf("got %q, %v; want %q", target, err, tt.target)
				}
				return
			}
			var b *badRequest
			if !errors.As(err, &b) {
				t.Fatalf("got %q, %v; want a refusal", target, err)
			}
			if b.status != tt.status || b.expr != tt.expr || b.rule != RulePatch && tt.status == http.StatusUnprocessableEntity || b.msg == "" {
				t.Errorf("refusal %d %q %s %q; want %d %q", b.status, b.expr, b.rule, b.msg, tt.status, tt.expr)
			}
		})
	}
}

// FuzzParsePatch: any patch body and URL give the version it supersedes,
// or an error naming the field, never a panic; what is accepted is the
// one patch MHD defines.
func FuzzParsePatch(f *testing.F) {
	f.Add([]byte(goodPatch), "DocumentReference/1.2.3")
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"operation","part":[]}]}`), "DocumentReference/1")
	f.Add([]byte(`null`), "")
	f.Fuzz(func(t *testing.T, body []byte, url string) {
		target, err := parsePatch(body, url, "https://arkisto.test/fhir", "P")
		if err != nil {
			var b *badRequest
			if !errors.As(err, &b) || b.expr == "" || b.msg == "" || !strings.HasPrefix(b.expr, "P.") {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if target == "" || !fhirID.MatchString(target) || !strings.HasSuffix(url, "DocumentReference/"+target) {
			t.Fatalf("accepted target %q of %q", target, url)
		}
		var p patchParameters
		if err := json.Unmarshal(body, &p); err != nil || len(p.Parameter) != 1 || len(p.Parameter[0].Part) != 3 {
			t.Fatalf("accepted a patch that is not one operation of three parts: %v %s", err, body)
		}
		got := map[string]string{}
		for _, pt := range p.Parameter[0].Part {
			got[pt.Name] = pt.ValueCode + pt.ValueString
		}
		if got["type"] != "replace" || got["path"] != "DocumentReference.status" || got["value"] != "superseded" {
			t.Fatalf("accepted the patch %v: %s", got, body)
		}
	})
}
