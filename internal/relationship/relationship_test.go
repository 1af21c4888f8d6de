package relationship

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/fitime"
)

func sample(t testing.TB) (*cda.Document, []byte) {
	t.Helper()
	raw, err := os.ReadFile("../../testdata/kanta/asiakkuusasiakirja_S.xml")
	if err != nil {
		t.Fatal(err)
	}
	d, probs := cda.Read(raw, cda.Options{})
	if probs != nil {
		t.Fatal(probs)
	}
	return d, d.Body.Structured
}

func TestReadSample(t *testing.T) {
	d, js := sample(t)
	r, probs := Read(&d.Header, js)
	if probs != nil {
		t.Fatal(probs)
	}
	// Values as written in the public sample's decoded structured form.
	if r.ID != "1.2.246.10.32213561.95777.2026.698084.281" || r.Organiser != "1.2.246.10.32213561.10.0" || r.ClientKey != "1.2.246.21|200111A904P" {
		t.Errorf("relationship %+v", r)
	}
	if r.Period.Start.Format("2006-01-02") != "2026-07-17" || !r.Period.End.IsZero() {
		t.Errorf("period %+v", r.Period)
	}
	if len(r.Tasks) != 1 || r.Tasks[0].Code != "24" {
		t.Fatalf("tasks %+v", r.Tasks)
	}
	task := r.Tasks[0]
	if len(task.Units) != 1 || task.Units[0].OID != "1.2.246.10.1246109.10.2001213" {
		t.Errorf("organiser units %+v", task.Units)
	}
	if len(task.Providers) != 1 {
		t.Fatalf("providers %+v", task.Providers)
	}
	p := task.Providers[0]
	if p.Unit.OID != "1.2.246.10.1246109.10.2001213" || p.Organisation != "1.2.246.10.1246109" || len(p.SocialServices) != 1 || p.SocialServices[0] != "15" {
		t.Errorf("provider %+v", p)
	}
	if p.Unit.Period.Start.Format("2006-01-02") != "2026-07-17" {
		t.Errorf("provider period %+v", p.Unit.Period)
	}
	if r.Document != d.ID {
		t.Errorf("defining document %s", r.Document)
	}
}

func TestPeriodContains(t *testing.T) {
	p := Period{Start: Date{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, End: Date{time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)}}
	fin := fitime.Location
	tests := []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2025, 12, 31, 23, 0, 0, 0, fin), false},
		{time.Date(2026, 1, 1, 0, 30, 0, 0, fin), true}, // still 2025-12-31 in UTC
		{time.Date(2026, 6, 30, 23, 59, 0, 0, fin), true},
		{time.Date(2026, 7, 1, 0, 1, 0, 0, fin), false},
	}
	for _, tt := range tests {
		if got := p.Contains(tt.at); got != tt.want {
			t.Errorf("Contains(%v) = %v", tt.at, got)
		}
	}
	if !(Period{}).Contains(time.Now()) {
		t.Error("an open period does not contain now")
	}
}

func TestReadProblems(t *testing.T) {
	d, js := sample(t)
	tests := []struct {
		name, from, to, code string
	}{
		{"not the relationship structure", `{ "asiakkuusasiakirja"`, `{ "jotain_muuta"`, RuleStructure},
		{"bad start date", `"asiakkuuden_alkamispvm": "2026-07-17" }, "palvelunjarjestajan_toimintayksikko"`, `"asiakkuuden_alkamispvm": "17.7.2026" }, "palvelunjarjestajan_toimintayksikko"`, RuleDate},
		{"other relationship id", `"value": "1.2.246.10.32213561.95777.2026.698084.281"`, `"value": "1.2.246.10.32213561.95777.2026.698084.999"`, RuleID},
		{"unit code not an OID", `"code": "1.2.246.10.1246109.10.2001213", "display": "Lapsiperheiden palvelutarpeen arviointi, Vantaan ja Keravan hyvinvointialue" }, "asiakkuuden_alkamispvm": "2026-07-17", "yhteystiedot": { "osoite": [{ "lahiosoite": "Vernissakatu 8 C", "postinumero": "01300", "postitoimipaikka": "Vantaa" }], "puhelinnumero": "09 419 191" } }] }] } }`, `"code": "yksikko", "display": "x" }, "asiakkuuden_alkamispvm": "2026-07-17" }] }] } }`, RuleUnit},
	}
	for _, tt := range tests {
		s := string(js)
		if strings.Count(s, tt.from) != 1 {
			t.Fatalf("%s: the mutation's text occurs %d times", tt.name, strings.Count(s, tt.from))
		}
		_, probs := Read(&d.Header, []byte(strings.Replace(s, tt.from, tt.to, 1)))
		if !probs.Has(tt.code) {
			t.Errorf("%s: problems %v, want %s", tt.name, probs, tt.code)
		}
	}
	plan := d.Header
	plan.DocumentGroup.Code = "5"
	if _, probs := Read(&plan, js); !probs.Has(RuleStructure) {
		t.Error("a group 5 document was read as a relationship")
	}
}
