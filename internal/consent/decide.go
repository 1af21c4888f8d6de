package consent

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/oid"
)

// Document is what the disclosure decision needs to know of an archived
// version.
type Document struct {
	SetID       string
	Controller  string // the controller whose register holds it now
	ServiceTask string
	Group       string // document group, 1.2.246.537.6.1505.201601
	Nullified   bool
}

// Purpose is what a professional of another controller asks for.
type Purpose string

const (
	// PurposeDisclosure: the client's documents that may be disclosed to
	// the caller with the client's consent.
	PurposeDisclosure Purpose = "disclosure"
	// PurposeBroadSearch: a search under section 20 of the Act on Social
	// Welfare Clients, which reaches documents a prohibition or their
	// phase would withhold; it needs a justification.
	PurposeBroadSearch Purpose = "broad-search"
)

// Justification grounds a broad search: a code of the archive's own code
// system (the national codes, set 1.2.246.537.6.1299, are not public) and
// the professional's words.
type Justification struct {
	Code string
	Text string
}

// SystemJustification is the archive's own code system of broad search
// grounds.
const SystemJustification = "urn:arkisto:broad-search-ground"

// Justifications are the grounds of a broad search the archive knows, in
// Finnish, Swedish and English.
var Justifications = map[string]codes.Text{
	"need-assessment":   {FI: "Palvelutarpeen arviointi", SV: "Bedömning av servicebehovet", EN: "Assessment of the need for services"},
	"service-provision": {FI: "Sosiaalihuollon järjestäminen tai toteuttaminen", SV: "Ordnande eller genomförande av socialvård", EN: "Arranging or providing social welfare"},
	"child-welfare":     {FI: "Lastensuojelutarpeen selvitys", SV: "Utredning av barnskyddsbehov", EN: "Investigation of the need for child welfare"},
	"statutory-task":    {FI: "Muu laissa säädetty tehtävä", SV: "Annan lagstadgad uppgift", EN: "Another task laid down by law"},
}

// Request is another controller's request for a client's documents.
type Request struct {
	Recipient string // the requesting controller
	// RecipientRelationship: the recipient has an active client
	// relationship with the client (a current client relationship document
	// in its own register). The domain finds it out.
	RecipientRelationship bool
	Purpose               Purpose
	Justification         Justification // broad search only
}

// Decision is a disclosure decision with its ground: the consent's id, or
// the broad search's justification.
type Decision struct {
	Allowed bool
	Reason  string
	Ground  string
}

// CheckJustification says what is wrong with a broad search's
// justification, or "" when it is sound.
func CheckJustification(j Justification) string {
	if _, ok := Justifications[j.Code]; !ok {
		known := make([]string, 0, len(Justifications))
		for c := range Justifications {
			known = append(known, c)
		}
		sort.Strings(known)
		return fmt.Sprintf("a broad search needs a justification code of %s (one of %s), is %q", SystemJustification, strings.Join(known, ", "), j.Code)
	}
	text := strings.TrimSpace(j.Text)
	if text == "" || utf8.RuneCountInString(text) > 500 || strings.IndexFunc(text, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0 {
		return "a broad search needs a justification in words: printable text of at most 500 characters"
	}
	return ""
}

// Disclosable reports whether a document of this group may be disclosed
// with consent: documents of the second or a later phase and client
// relationship documents. Case documents, first-phase and old documents
// are withheld by default.
func Disclosable(group string) bool {
	return group == codes.GroupLaterPhase || group == codes.GroupClientRelationship
}

// Decide decides whether the document may be disclosed to the recipient
// under the client's will in force. It is asked only for documents of
// another controller than the recipient: a controller's own register and a
// provider's register access right are own use, decided elsewhere, and no
// prohibition stops them.
func Decide(s State, r Request, d Document) Decision {
	deny := func(format string, args ...any) Decision {
		return Decision{Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.Recipient == "" || oid.SameOrganisation(r.Recipient, d.Controller):
		return deny("not a disclosure: the document is in the recipient's own register")
	case d.Nullified:
		return deny("a nullified document is never disclosed")
	case !r.RecipientRelationship:
		return deny("the recipient %s has no active client relationship with the client", r.Recipient)
	}
	switch r.Purpose {
	case PurposeBroadSearch:
		if why := CheckJustification(r.Justification); why != "" {
			return deny("%s", why)
		}
		return Decision{Allowed: true,
			Reason: fmt.Sprintf("broad search (Act on Social Welfare Clients, section 20): %s", r.Justification.Code),
			Ground: r.Justification.Code + ": " + strings.TrimSpace(r.Justification.Text)}
	case PurposeDisclosure:
	default:
		return deny("purpose %q is not a disclosure purpose (%s or %s)", r.Purpose, PurposeDisclosure, PurposeBroadSearch)
	}
	switch {
	case !Disclosable(d.Group):
		return deny("documents of group %s (case, first-phase and old documents) are not disclosed without a broad search", d.Group)
	case !s.Informed:
		return deny("the client has not received the information notice")
	case s.Consent == nil:
		return deny("the client has no disclosure consent in force")
	}
	for _, p := range s.Prohibitions {
		if p.Covers(d) {
			return deny("the client's prohibition %s covers the document (%s)", p.ID, p.Target.Kind)
		}
	}
	return Decision{Allowed: true, Reason: "disclosure with the client's consent " + s.Consent.ID, Ground: s.Consent.ID}
}
