package fhirapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/problem"
)

// RuleSystem is the code system of the archive's rule codes in
// OperationOutcome.issue.details.
const RuleSystem = "urn:arkisto:rule"

// issue makes an error issue. expression is the FHIRPath of the field at
// fault, rule the archive's rule code.
func issue(code, expression, rule, msg string) OperationOutcomeIssue {
	is := OperationOutcomeIssue{Severity: "error", Code: code, Diagnostics: msg}
	if expression != "" {
		is.Expression = []string{expression}
	}
	is.Details = &CodeableConcept{Text: msg}
	if rule != "" {
		is.Details.Coding = []Coding{{System: RuleSystem, Code: rule}}
	}
	return is
}

func (s *Server) fail(w http.ResponseWriter, status int, issues ...OperationOutcomeIssue) {
	writeJSON(w, status, &OperationOutcome{ResourceType: "OperationOutcome", Issue: issues})
}

// issueType maps a rule code to a FHIR IssueType.
func issueType(rule string) string {
	switch {
	case strings.HasSuffix(rule, "_REQUIRED"), strings.HasSuffix(rule, "_MISSING"):
		return "required"
	case strings.Contains(rule, "_CODE_"):
		return "code-invalid"
	case rule == "XML_TOO_LARGE":
		return "too-long"
	case strings.HasPrefix(rule, "SIG_"):
		return "security"
	case strings.HasPrefix(rule, "XML_"):
		return "structure"
	}
	return "value"
}

// problemIssues turns document problems into issues; expression names the
// FHIR element that carried the document, and the CDA path goes into the
// diagnostics.
func problemIssues(expression string, ps problem.List) []OperationOutcomeIssue {
	out := make([]OperationOutcomeIssue, 0, len(ps))
	for _, p := range ps {
		msg := p.Message
		if p.Path != "" {
			msg = fmt.Sprintf("%s (in the document at %s)", p.Message, p.Path)
		}
		out = append(out, issue(issueType(p.Code), expression, p.Code, p.Code+": "+msg))
	}
	return out
}

// statusClientClosed is the status recorded for a request whose client went away.
const statusClientClosed = 499

// archiveError answers a domain error: 422 for a document the archive
// does not accept, 403, 404, 409 for the rest, 500 only for internal
// failures. expr names the offending element for invalid input.
func (s *Server) archiveError(w http.ResponseWriter, r *http.Request, err error, expr string) {
	var ae *archive.Error
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) || errors.Is(r.Context().Err(), context.Canceled) {
			// The client went away: no fault of the archive's. 499 (as
			// nginx has it) is for the metrics; no one reads it.
			s.log.InfoContext(r.Context(), "request abandoned by the client", "route", r.Pattern)
			s.fail(w, statusClientClosed, issue("incomplete", "", "", "the client closed the request"))
			return
		}
		s.log.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "err", err)
		s.fail(w, http.StatusInternalServerError, issue("exception", "", "", "internal error; the request was not carried out"))
		return
	}
	switch {
	case errors.Is(err, archive.ErrInvalid):
		if len(ae.Problems) > 0 {
			s.fail(w, http.StatusUnprocessableEntity, problemIssues(expr, ae.Problems)...)
			return
		}
		s.fail(w, http.StatusBadRequest, issue("invalid", expr, "", ae.Message))
	case errors.Is(err, archive.ErrForbidden):
		s.fail(w, http.StatusForbidden, issue("forbidden", expr, "ACCESS_DENIED", ae.Message))
	case errors.Is(err, archive.ErrNotFound):
		s.fail(w, http.StatusNotFound, issue("not-found", expr, "", ae.Message))
	case errors.Is(err, archive.ErrConflict):
		s.fail(w, http.StatusConflict, issue("conflict", expr, "CONFLICT", ae.Message))
	default:
		s.fail(w, http.StatusInternalServerError, issue("exception", "", "", "internal error"))
	}
}
