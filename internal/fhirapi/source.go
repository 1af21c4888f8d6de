package fhirapi

import (
	"fmt"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
)

// Rule codes of the metadata a source sends beside the document.
const (
	// RuleSourceMetadata: an element of the DocumentReference the archive
	// keeps as sent breaks a rule of its own (too many, too long, empty).
	RuleSourceMetadata = "BODY_SOURCE_METADATA"
	// RuleRelatesTo: a relatesTo the archive cannot record as defined.
	RuleRelatesTo = "BODY_RELATES_TO"
)

// Bounds of what the archive keeps as a source sent it: a record is read
// on every search, so what a sender can add to it is bounded.
const (
	maxSourceIdentifiers = 8
	maxSourceLabels      = 8
	maxSourceCodings     = 8
	maxSourceText        = 256
	// dateSkew is how far after its receipt a sender's clock may put the
	// time it made its reference.
	dateSkew = 5 * time.Minute
)

// agreeSource checks the metadata of a DocumentReference that the archive
// keeps as the source sent it (MHD 4.2 2:3.65.4.1.2: the Document Source's
// metadata) and returns it to keep. What can be compared with the document
// must agree with it: a security label or format coding in the archive's
// own code system, the attachment's creation (the document's effective
// time), the context period (the case's). The rest is the source's
// statement: entry identifiers, codings of other systems, and date, which
// FHIR R4 defines as when the reference was made, not when the document
// was (documentreference.html#DocumentReference.date).
func agreeSource(ref *DocumentReference, h *cda.Header, path string, now time.Time) (*archive.SourceMetadata, *badRequest) {
	dis := func(field, format string, args ...any) *badRequest {
		return unprocessable("business-rule", path+"."+field, "%s disagrees with the CDA document: %s", field, fmt.Sprintf(format, args...))
	}
	rule := func(field, format string, args ...any) *badRequest {
		b := unprocessable("value", path+"."+field, "%s: %s", field, fmt.Sprintf(format, args...))
		b.rule = RuleSourceMetadata
		return b
	}
	text := func(field, v string) *badRequest {
		if len(v) > maxSourceText {
			return rule(field, "at most %d bytes are kept", maxSourceText)
		}
		return nil
	}
	src := &archive.SourceMetadata{}
	kept := false
	if ref.Date != "" {
		t, err := time.Parse(time.RFC3339Nano, ref.Date)
		if err != nil {
			return nil, unprocessable("value", path+".date", "date must be an instant with zone, as 2026-03-23T10:54:24+02:00")
		}
		if t.After(now.Add(dateSkew)) {
			return nil, rule("date", "when the reference was made cannot be after the archive received it (%s)", instant(now.UTC()))
		}
		src.Date, kept = &t, true
	}
	if len(ref.Identifier) > maxSourceIdentifiers {
		return nil, rule("identifier", "at most %d identifiers are kept", maxSourceIdentifiers)
	}
	for i, id := range ref.Identifier {
		f := fmt.Sprintf("identifier[%d]", i)
		if id.Value == "" {
			return nil, rule(f+".value", "an identifier needs a value")
		}
		if id.Use == "official" && (id.System != SystemURI || !strings.HasPrefix(id.Value, "urn:uuid:")) {
			// MHD 4.2 IHE.MHD.EntryUUID.Identifier: the official identifier
			// is the entryUUID, urn:ietf:rfc:3986 and a urn:uuid: value.
			return nil, rule(f, "an identifier with use official is the entryUUID: system %s and a value urn:uuid:<uuid> (MHD 4.2 IHE.MHD.EntryUUID.Identifier)", SystemURI)
		}
		for _, v := range []string{id.Use, id.System, id.Value} {
			if e := text(f, v); e != nil {
				return nil, e
			}
		}
		src.Identifiers = append(src.Identifiers, archive.SourceIdentifier{Use: id.Use, System: id.System, Value: id.Value})
		kept = true
	}
	if len(ref.SecurityLabel) > maxSourceLabels {
		return nil, rule("securityLabel", "at most %d security labels are kept", maxSourceLabels)
	}
	for i, l := range ref.SecurityLabel {
		f := fmt.Sprintf("securityLabel[%d]", i)
		c, e := sourceConcept(l, f, path)
		if e != nil {
			return nil, e
		}
		for j, cd := range l.Coding {
			if cd.System == oidURN(codes.OIDConfidentiality) && cd.Code != h.Confidentiality.Code {
				return nil, dis(fmt.Sprintf("%s.coding[%d]", f, j), "the document's confidentiality is %s", h.Confidentiality.Code)
			}
		}
		src.SecurityLabels = append(src.SecurityLabels, c)
		kept = true
	}
	if len(ref.Content) == 1 {
		cnt := &ref.Content[0]
		if f := cnt.Format; f != nil {
			if f.System == oidURN(codes.OIDDisplayFormat) && f.Code != h.DisplayFormat.Code {
				return nil, dis("content[0].format", "the document's display format is %q", h.DisplayFormat.Code)
			}
			if f.Code == "" {
				return nil, rule("content[0].format.code", "a format needs a code")
			}
			for _, v := range []string{f.System, f.Code, f.Display} {
				if e := text("content[0].format", v); e != nil {
					return nil, e
				}
			}
			src.Format, kept = &archive.SourceCoding{System: f.System, Code: f.Code, Display: f.Display}, true
		}
		att := &cnt.Attachment
		if att.Hash != "" {
			// checkAttachment has compared it with the document's bytes.
			src.Hash, kept = att.Hash, true
		}
		if att.Creation != "" {
			t, err := time.Parse(time.RFC3339Nano, att.Creation)
			if err != nil {
				return nil, unprocessable("value", path+".content[0].attachment.creation", "attachment.creation must be a dateTime with zone, as 2026-03-23T10:54:24+02:00")
			}
			if !t.Truncate(time.Second).Equal(h.EffectiveTime.Truncate(time.Second)) {
				return nil, dis("content[0].attachment.creation", "the document's effective time is %s", instant(h.EffectiveTime))
			}
		}
	}
	if c := ref.Context; c != nil && c.Period != nil {
		if e := agreePeriod(c.Period, h, path, dis); e != nil {
			return nil, e
		}
	}
	if !kept {
		return nil, nil
	}
	return src, nil
}

// agreePeriod compares context.period with the case's period: opened and
// closed, to the second (MHD maps it to serviceStartTime/serviceStopTime;
// the archive's documents carry their case's).
func agreePeriod(p *Period, h *cda.Header, path string, dis func(field, format string, args ...any) *badRequest) *badRequest {
	same := func(field, v string, want *time.Time) *badRequest {
		if v == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return unprocessable("value", path+".context.period."+field, "context.period.%s must be a dateTime with zone", field)
		}
		if want == nil {
			return dis("context.period."+field, "the document's case has no %s time", map[string]string{"start": "opening", "end": "closing"}[field])
		}
		if !t.Truncate(time.Second).Equal(want.Truncate(time.Second)) {
			return dis("context.period."+field, "the case's time is %s", instant(*want))
		}
		return nil
	}
	if e := same("start", p.Start, h.Case.Opened); e != nil {
		return e
	}
	return same("end", p.End, h.Case.Closed)
}

// sourceConcept keeps a CodeableConcept as sent, within bounds.
func sourceConcept(c CodeableConcept, field, path string) (archive.SourceConcept, *badRequest) {
	out := archive.SourceConcept{Text: c.Text}
	bad := func(format string, args ...any) (archive.SourceConcept, *badRequest) {
		b := unprocessable("value", path+"."+field, "%s: %s", field, fmt.Sprintf(format, args...))
		b.rule = RuleSourceMetadata
		return archive.SourceConcept{}, b
	}
	if len(c.Coding) == 0 {
		return bad("a security label needs a coding")
	}
	if len(c.Coding) > maxSourceCodings {
		return bad("at most %d codings are kept", maxSourceCodings)
	}
	if len(c.Text) > maxSourceText {
		return bad("at most %d bytes of text are kept", maxSourceText)
	}
	for _, cd := range c.Coding {
		if cd.Code == "" {
			return bad("each coding needs a code")
		}
		if len(cd.System) > maxSourceText || len(cd.Code) > maxSourceText || len(cd.Display) > maxSourceText {
			return bad("at most %d bytes of a coding's system, code and display are kept", maxSourceText)
		}
		out.Coding = append(out.Coding, archive.SourceCoding{System: cd.System, Code: cd.Code, Display: cd.Display})
	}
	return out, nil
}
