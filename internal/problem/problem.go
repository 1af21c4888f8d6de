// Package problem is the archive's vocabulary of field-level errors: every
// refusal of bad input names a stable rule code, the location of the field
// and a message a person can act on.
//
// Messages may name codes, OIDs and element paths; they must never carry an
// identity code, a name or document content.
package problem

import (
	"fmt"
	"strings"
)

// Problem is one violated rule.
type Problem struct {
	Code    string `json:"code"`    // stable rule code, e.g. CDA_REQUIRED
	Path    string `json:"path"`    // where: an element path such as /ClinicalDocument/id/@root
	Message string `json:"message"` // what is wrong and what is expected
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Code + ": " + p.Message
	}
	return p.Code + " at " + p.Path + ": " + p.Message
}

// List is an error made of problems.
type List []Problem

func (l List) Error() string {
	switch len(l) {
	case 0:
		return "no problems"
	case 1:
		return l[0].String()
	}
	parts := make([]string, len(l))
	for i, p := range l {
		parts[i] = p.String()
	}
	return fmt.Sprintf("%d problems: %s", len(l), strings.Join(parts, "; "))
}

// Has reports whether any problem has the code.
func (l List) Has(code string) bool {
	for _, p := range l {
		if p.Code == code {
			return true
		}
	}
	return false
}

// Codes lists the codes in order, for tests and summaries.
func (l List) Codes() []string {
	out := make([]string, len(l))
	for i, p := range l {
		out[i] = p.Code
	}
	return out
}

// Add appends a problem.
func (l *List) Add(code, path, format string, args ...any) {
	*l = append(*l, Problem{Code: code, Path: path, Message: fmt.Sprintf(format, args...)})
}
