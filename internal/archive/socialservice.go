package archive

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/arkisto/arkisto/internal/codes"
)

// maxSocialServices bounds the social services kept of one document.
const maxSocialServices = 64

// SocialServices returns the social service codes (code set
// 1.2.246.537.6.1222.201601) a document's structured form names, sorted
// and without repeats: the national structures carry them as codings
// ({"system": "urn:oid:1.2.246.537.6.1222.201601", "code": ...}) wherever
// a service is planned, decided or produced, and the header names none.
// A structured form that is not JSON names none (the reader refuses such
// a document before it gets here).
func SocialServices(structured []byte) []string {
	if len(structured) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(structured, &v); err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	// An explicit stack: the depth of the JSON is the sender's.
	stack := []any{v}
	for len(stack) > 0 && len(out) < maxSocialServices {
		n := len(stack) - 1
		cur := stack[n]
		stack = stack[:n]
		switch x := cur.(type) {
		case map[string]any:
			sys, _ := x["system"].(string)
			code, _ := x["code"].(string)
			if strings.TrimPrefix(sys, "urn:oid:") == codes.OIDSocialService && code != "" && len(code) <= 64 && !seen[code] {
				seen[code] = true
				out = append(out, code)
			}
			for _, c := range x {
				stack = append(stack, c)
			}
		case []any:
			stack = append(stack, x...)
		}
	}
	slices.Sort(out)
	return out
}
