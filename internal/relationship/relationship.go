// Package relationship reads a client relationship (asiakkuus) from a
// client relationship document (document group 1): its id, client,
// organiser, dates, service tasks, the organiser's units and the service
// providers (palveluntuottaja) with their units, social services and
// periods. Naming a provider there is what gives it a register access right.
package relationship

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/formjson"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/problem"
)

// Rule codes.
const (
	RuleStructure = "RELATIONSHIP_STRUCTURE"
	RuleDate      = "RELATIONSHIP_DATE"
	RuleUnit      = "RELATIONSHIP_UNIT"
	RuleID        = "RELATIONSHIP_ID"
)

// Date is a calendar date; the zero Date means "not given".
type Date struct{ time.Time }

// Period is a closed range of dates; a zero end is open.
type Period struct {
	Start Date `json:"start"`
	End   Date `json:"end,omitempty"`
}

// Contains reports whether the day of t (in Finnish time) lies in the period.
func (p Period) Contains(t time.Time) bool {
	day := fitime.Day(t)
	if !p.Start.IsZero() && day.Before(p.Start.Time) {
		return false
	}
	return p.End.IsZero() || !day.After(p.End.Time)
}

// Unit is a service unit with its period in the relationship.
type Unit struct {
	OID    string `json:"oid"`
	Name   string `json:"name,omitempty"`
	Period Period `json:"period"`
}

// Provider is a service provider named for a service task: the unit that
// produces the service, the organisation it belongs to, the social services.
type Provider struct {
	Organisation   string   `json:"organisation"` // 1.2.246.10.<business id>, from the unit's OID
	Unit           Unit     `json:"unit"`
	SocialServices []string `json:"socialServices,omitempty"`
}

// Task is a service task of the relationship.
type Task struct {
	Code      string     `json:"code"`
	Units     []Unit     `json:"units,omitempty"` // the organiser's units
	Providers []Provider `json:"providers,omitempty"`
}

// Relationship is what a client relationship document says.
type Relationship struct {
	ID        string `json:"id"`
	ClientKey string `json:"clientKey"`
	Organiser string `json:"organiser"` // the controller whose register it is in
	Period    Period `json:"period"`
	Tasks     []Task `json:"tasks"`
	// Document is the version that defines it.
	Document string `json:"document"`
}

// structured mirrors the national structure of the client relationship
// document (asiakkuusasiakirja) as far as the archive uses it.
type structured struct {
	Asiakkuusasiakirja *asiakirja `json:"asiakkuusasiakirja"`
}

type asiakirja struct {
	Tunnus    *valueJSON  `json:"asiakkuuden_yksilointitunnus"`
	Asiakkuus *periodJSON `json:"sosiaalihuollon_asiakkuus"`
	Tehtavat  []taskJSON  `json:"sosiaalihuollon_palvelutehtava"`
}

type valueJSON struct {
	Value string `json:"value"`
}

type periodJSON struct {
	Alku  string `json:"asiakkuuden_alkamispvm"`
	Loppu string `json:"asiakkuuden_paattymispvm"`
}

type codeJSON struct {
	Code string `json:"code"`
}

type taskJSON struct {
	Tehtava   *codeJSON      `json:"palvelutehtava"`
	Yksikot   []unitJSON     `json:"palvelunjarjestajan_palveluyksikko"`
	Tuottajat []providerJSON `json:"palveluntuottaja"`
}

type providerJSON struct {
	unitJSON
	Palvelut []codeJSON `json:"sosiaalipalvelu"`
}

type unitJSON struct {
	Nimi  *nameJSON `json:"palveluyksikon_nimi"`
	Alku  string    `json:"asiakkuuden_alkamispvm"`
	Loppu string    `json:"asiakkuuden_paattymispvm"`
}

type nameJSON struct {
	Code    string `json:"code"`
	Display string `json:"display"`
}

const base = "/asiakkuusasiakirja"

func parseDate(s, path string, p *problem.List) Date {
	if s == "" {
		return Date{}
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		p.Add(RuleDate, path, "date must be YYYY-MM-DD")
		return Date{}
	}
	return Date{t}
}

func period(alku, loppu, path string, p *problem.List) Period {
	per := Period{Start: parseDate(alku, path+"/asiakkuuden_alkamispvm", p), End: parseDate(loppu, path+"/asiakkuuden_paattymispvm", p)}
	if !per.Start.IsZero() && !per.End.IsZero() && per.End.Before(per.Start.Time) {
		p.Add(RuleDate, path+"/asiakkuuden_paattymispvm", "the end date is before the start date")
	}
	return per
}

func (u unitJSON) unit(path string, p *problem.List) Unit {
	var out Unit
	if u.Nimi == nil || u.Nimi.Code == "" {
		p.Add(RuleUnit, path+"/palveluyksikon_nimi/code", "a unit needs its OID")
		return out
	}
	out.OID, out.Name = u.Nimi.Code, u.Nimi.Display
	if err := oid.Check(out.OID); err != nil {
		p.Add(RuleUnit, path+"/palveluyksikon_nimi/code", "the unit code must be an OID: %v", err)
	} else if oid.Organisation(out.OID) == "" {
		p.Add(RuleUnit, path+"/palveluyksikon_nimi/code", "the unit OID must lie under an organisation (1.2.246.10.<business id>)")
	}
	out.Period = period(u.Alku, u.Loppu, path, p)
	return out
}

// Read reads the relationship from a client relationship document's header
// and structured form. Problems are reported with JSON paths.
func Read(h *cda.Header, structuredForm []byte) (*Relationship, problem.List) {
	return ReadForm(h, structuredForm, nil)
}

// ReadForm is Read with the structured form's tape (formjson.Parse of
// structuredForm; nil for none), read once for the whole check.
func ReadForm(h *cda.Header, structuredForm []byte, form *formjson.Tape) (*Relationship, problem.List) {
	var p problem.List
	if h.DocumentGroup.Code != codes.GroupClientRelationship {
		p.Add(RuleStructure, "/", "not a client relationship document")
		return nil, p
	}
	var s structured
	res := formjson.Unsure
	if form != nil && form.Of(structuredForm) {
		res = decodeFast(form, &s)
	}
	if res == formjson.Unsure {
		s = structured{}
		if json.Unmarshal(structuredForm, &s) != nil {
			res = formjson.Failed
		}
	}
	if res == formjson.Failed || s.Asiakkuusasiakirja == nil {
		p.Add(RuleStructure, base, "the structured form is not an asiakkuusasiakirja")
		return nil, p
	}
	a := s.Asiakkuusasiakirja
	r := &Relationship{
		ID:        h.ClientRelationshipID,
		ClientKey: hetu.ClientID{Root: h.Client.ID.Root, Extension: h.Client.ID.Extension}.Key(),
		Organiser: h.Custodian.OID,
		Document:  h.ID,
	}
	if a.Tunnus != nil && a.Tunnus.Value != "" && a.Tunnus.Value != r.ID {
		p.Add(RuleID, base+"/asiakkuuden_yksilointitunnus/value", "the structured form names relationship %s, the header %s", a.Tunnus.Value, r.ID)
	}
	if a.Asiakkuus == nil || a.Asiakkuus.Alku == "" {
		p.Add(RuleDate, base+"/sosiaalihuollon_asiakkuus/asiakkuuden_alkamispvm", "the relationship needs its start date")
	} else {
		r.Period = period(a.Asiakkuus.Alku, a.Asiakkuus.Loppu, base+"/sosiaalihuollon_asiakkuus", &p)
	}
	if len(a.Tehtavat) == 0 {
		p.Add(RuleStructure, base+"/sosiaalihuollon_palvelutehtava", "the relationship names no service task")
	}
	for i, t := range a.Tehtavat {
		tp := fmt.Sprintf("%s/sosiaalihuollon_palvelutehtava[%d]", base, i)
		if t.Tehtava == nil || strings.TrimSpace(t.Tehtava.Code) == "" {
			p.Add(RuleStructure, tp+"/palvelutehtava/code", "a service task needs its code")
			continue
		}
		task := Task{Code: t.Tehtava.Code}
		for j, u := range t.Yksikot {
			task.Units = append(task.Units, u.unit(fmt.Sprintf("%s/palvelunjarjestajan_palveluyksikko[%d]", tp, j), &p))
		}
		for j, pr := range t.Tuottajat {
			pp := fmt.Sprintf("%s/palveluntuottaja[%d]", tp, j)
			prov := Provider{Unit: pr.unit(pp, &p)}
			prov.Organisation = oid.Organisation(prov.Unit.OID)
			if prov.Unit.Period.Start.IsZero() {
				prov.Unit.Period.Start = r.Period.Start
			}
			if prov.Unit.Period.End.IsZero() {
				prov.Unit.Period.End = r.Period.End
			}
			for _, sv := range pr.Palvelut {
				prov.SocialServices = append(prov.SocialServices, sv.Code)
			}
			task.Providers = append(task.Providers, prov)
		}
		r.Tasks = append(r.Tasks, task)
	}
	if len(p) > 0 {
		return r, p
	}
	return r, nil
}

// MarshalJSON writes a date as YYYY-MM-DD.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte(`""`), nil
	}
	return []byte(`"` + d.Format("2006-01-02") + `"`), nil
}

// UnmarshalJSON reads YYYY-MM-DD or "".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return err
	}
	*d = Date{t}
	return nil
}
