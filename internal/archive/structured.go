package archive

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/arkisto/arkisto/internal/codes"
)

// What the archive keeps of a document's structured form for the citizen
// view, read once as the version is archived: the header names neither.
const (
	maxSocialServices = 64
	maxCaseWorkers    = 8
	maxCaseWorkerText = 200
)

// CaseWorker is a personal case worker (omatyöntekijä) a document names.
type CaseWorker struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	Unit  string `json:"unit,omitempty"`
}

// SocialServices returns the social service codes (code set
// 1.2.246.537.6.1222.201601) a document's structured form names, sorted
// and without repeats: the national structures carry them as codings
// ({"system": "urn:oid:1.2.246.537.6.1222.201601", "code": ...}) wherever
// a service is planned, decided or produced.
func SocialServices(structured []byte) []string {
	s, _ := structuredFacts(structured)
	return s
}

// CaseWorkers returns the personal case workers a document's structured
// form names: objects under the key "omatyontekija", with the person as
// the national structures write an author ("laatija": "etunimet",
// "sukunimi", "tehtavanimike", "palveluyksikko" with its "display"). No
// public sample names one; the key follows the structures' naming of the
// field (docs/citizen.md).
func CaseWorkers(structured []byte) []CaseWorker {
	_, w := structuredFacts(structured)
	return w
}

// structuredFacts reads both in one pass. A structured form that is not
// JSON names nothing (the reader refuses such a document before it gets
// here).
func structuredFacts(structured []byte) (services []string, workers []CaseWorker) {
	if len(structured) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(structured, &v); err != nil {
		return nil, nil
	}
	seen := map[string]bool{}
	// An explicit stack: the depth of the JSON is the sender's.
	stack := []any{v}
	for len(stack) > 0 {
		n := len(stack) - 1
		cur := stack[n]
		stack = stack[:n]
		switch x := cur.(type) {
		case map[string]any:
			sys, _ := x["system"].(string)
			code, _ := x["code"].(string)
			if strings.TrimPrefix(sys, "urn:oid:") == codes.OIDSocialService && code != "" && len(code) <= 64 && !seen[code] && len(services) < maxSocialServices {
				seen[code] = true
				services = append(services, code)
			}
			if w, ok := x["omatyontekija"]; ok {
				workers = appendWorkers(workers, w)
			}
			for _, c := range x {
				stack = append(stack, c)
			}
		case []any:
			stack = append(stack, x...)
		}
	}
	slices.Sort(services)
	return services, workers
}

func appendWorkers(out []CaseWorker, v any) []CaseWorker {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok || len(out) >= maxCaseWorkers {
			continue
		}
		str := func(o map[string]any, k string) string {
			s, _ := o[k].(string)
			s = strings.Join(strings.Fields(s), " ")
			if len(s) > maxCaseWorkerText {
				return ""
			}
			return s
		}
		w := CaseWorker{Name: strings.TrimSpace(str(m, "etunimet") + " " + str(m, "sukunimi")), Title: str(m, "tehtavanimike")}
		if u, ok := m["palveluyksikko"].(map[string]any); ok {
			w.Unit = str(u, "display")
		}
		if w.Name != "" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}
