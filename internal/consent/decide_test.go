package consent

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

const (
	ctrlA = "1.2.246.10.11111111.10.0" // the disclosing controller
	ctrlB = "1.2.246.10.22222222.10.0" // the recipient
	setX  = "1.2.246.10.11111111.95.7"
)

func plan() Document {
	return Document{SetID: setX, Controller: ctrlA, ServiceTask: "24", Group: "5"}
}

func TestDecide(t *testing.T) {
	at := day0.Add(72 * time.Hour)
	n := notice("n", adult, day0, byClient(adult))
	c := consentOf("c", adult, day0.Add(time.Hour), byClient(adult))
	withdrawn := consentOf("cw", adult, day0.Add(time.Hour), byClient(adult))
	withdrawn.Withdrawn = &Withdrawal{At: day0.Add(2 * time.Hour), By: byClient(adult)}
	expired := consentOf("ce", adult, day0.Add(time.Hour), byClient(adult))
	expired.Until = day0.Add(24 * time.Hour)
	future := consentOf("cf", adult, day0.Add(time.Hour), byClient(adult))
	future.From = at.Add(24 * time.Hour)
	ban := func(kind TargetKind, value string) *Expression {
		return prohibition("p-"+string(kind), adult, day0.Add(3*time.Hour), byClient(adult), kind, value)
	}
	lifted := ban(TargetServiceTask, "24")
	lifted.Withdrawn = &Withdrawal{At: day0.Add(4 * time.Hour), By: byClient(adult)}
	disclose := Request{Recipient: ctrlB, RecipientRelationship: true, Purpose: PurposeDisclosure}
	broad := Request{Recipient: ctrlB, RecipientRelationship: true, Purpose: PurposeBroadSearch, Justification: Justification{Code: "child-welfare", Text: "Lastensuojeluilmoituksen selvitys"}}
	with := func(r Request, f func(*Request)) Request { f(&r); return r }
	doc := func(f func(*Document)) Document { d := plan(); f(&d); return d }
	tests := []struct {
		name    string
		history []*Expression
		req     Request
		doc     Document
		allowed bool
		ground  string
		reason  string // a word the reason must contain
	}{
		{"informed and consenting: disclosed", []*Expression{n, c}, disclose, plan(), true, "c", "consent"},
		{"no notice, no consent", nil, disclose, plan(), false, "", "notice"},
		{"consent without the notice", []*Expression{c}, disclose, plan(), false, "", "notice"},
		{"notice without consent", []*Expression{n}, disclose, plan(), false, "", "consent"},
		{"withdrawn consent", []*Expression{n, withdrawn}, disclose, plan(), false, "", "consent"},
		{"consent ended", []*Expression{n, expired}, disclose, plan(), false, "", "consent"},
		{"consent not yet in force", []*Expression{n, future}, disclose, plan(), false, "", "consent"},
		{"a later consent after a withdrawn one", []*Expression{n, withdrawn, c}, disclose, plan(), true, "c", ""},
		{"prohibition of the document set", []*Expression{n, c, ban(TargetDocument, setX)}, disclose, plan(), false, "", "prohibition"},
		{"prohibition of another document set", []*Expression{n, c, ban(TargetDocument, setX+"1")}, disclose, plan(), true, "c", ""},
		{"prohibition of the service task", []*Expression{n, c, ban(TargetServiceTask, "24")}, disclose, plan(), false, "", "prohibition"},
		{"prohibition of another service task", []*Expression{n, c, ban(TargetServiceTask, "21")}, disclose, plan(), true, "c", ""},
		{"prohibition of the disclosing controller", []*Expression{n, c, ban(TargetController, ctrlA)}, disclose, plan(), false, "", "prohibition"},
		{"prohibition of the controller names another unit of it", []*Expression{n, c, ban(TargetController, "1.2.246.10.11111111.10.4")}, disclose, plan(), false, "", "prohibition"},
		{"prohibition of another controller", []*Expression{n, c, ban(TargetController, "1.2.246.10.33333333.10.0")}, disclose, plan(), true, "c", ""},
		{"a withdrawn prohibition no longer stops it", []*Expression{n, c, lifted}, disclose, plan(), true, "c", ""},
		{"no client relationship of the recipient", []*Expression{n, c}, with(disclose, func(r *Request) { r.RecipientRelationship = false }), plan(), false, "", "relationship"},
		{"nullified: never", []*Expression{n, c}, disclose, doc(func(d *Document) { d.Nullified = true }), false, "", "nullified"},
		{"client relationship document: disclosed", []*Expression{n, c}, disclose, doc(func(d *Document) { d.Group = "1" }), true, "c", ""},
		{"case document: withheld", []*Expression{n, c}, disclose, doc(func(d *Document) { d.Group = "2" }), false, "", "group"},
		{"first-phase document: withheld", []*Expression{n, c}, disclose, doc(func(d *Document) { d.Group = "4" }), false, "", "group"},
		{"old document: withheld", []*Expression{n, c}, disclose, doc(func(d *Document) { d.Group = "6" }), false, "", "group"},
		{"the recipient's own register is not a disclosure", []*Expression{n, c}, with(disclose, func(r *Request) { r.Recipient = ctrlA }), plan(), false, "", "own register"},
		{"another unit of the same organisation is own register too", []*Expression{n, c}, with(disclose, func(r *Request) { r.Recipient = "1.2.246.10.11111111.10.2" }), plan(), false, "", "own register"},
		{"unknown purpose", []*Expression{n, c}, with(disclose, func(r *Request) { r.Purpose = "curiosity" }), plan(), false, "", "purpose"},
		{"broad search with justification: no consent needed", nil, broad, plan(), true, "child-welfare: Lastensuojeluilmoituksen selvitys", "broad search"},
		{"broad search reaches a prohibited document", []*Expression{n, c, ban(TargetDocument, setX)}, broad, plan(), true, "child-welfare: Lastensuojeluilmoituksen selvitys", ""},
		{"broad search reaches a first-phase document", nil, broad, doc(func(d *Document) { d.Group = "4" }), true, "child-welfare: Lastensuojeluilmoituksen selvitys", ""},
		{"broad search never reaches a nullified document", nil, broad, doc(func(d *Document) { d.Nullified = true }), false, "", "nullified"},
		{"broad search without a justification code", nil, with(broad, func(r *Request) { r.Justification.Code = "" }), plan(), false, "", "justification"},
		{"broad search with an unknown code", nil, with(broad, func(r *Request) { r.Justification.Code = "hunch" }), plan(), false, "", "justification"},
		{"broad search without words", nil, with(broad, func(r *Request) { r.Justification.Text = "  " }), plan(), false, "", "justification"},
		{"broad search with control characters", nil, with(broad, func(r *Request) { r.Justification.Text = "x\x1b[2J" }), plan(), false, "", "justification"},
		{"broad search needs a client relationship too", nil, with(broad, func(r *Request) { r.RecipientRelationship = false }), plan(), false, "", "relationship"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(Fold(tt.history, at), tt.req, tt.doc)
			if d.Allowed != tt.allowed || d.Ground != tt.ground || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("allowed %v ground %q reason %q; want %v %q and a reason with %q", d.Allowed, d.Ground, d.Reason, tt.allowed, tt.ground, tt.reason)
			}
			if d.Allowed && d.Ground == "" {
				t.Error("a disclosure without a ground")
			}
		})
	}
}

// TestDecideProperties: for random wills and documents, a disclosure with
// consent is allowed exactly when every condition holds, and nothing is
// ever allowed without a ground.
func TestDecideProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	at := day0.Add(100 * time.Hour)
	groups := []string{"1", "2", "4", "5", "6"}
	tasks := []string{"21", "24", "25"}
	sets := []string{setX, setX + "1", setX + "2"}
	ctrls := []string{ctrlA, "1.2.246.10.33333333.10.0"}
	for i := 0; i < 5000; i++ {
		var h []*Expression
		informed := rng.IntN(3) > 0
		if informed {
			h = append(h, notice("n", adult, day0, byClient(adult)))
		}
		consented := rng.IntN(3) > 0
		if consented {
			c := consentOf("c", adult, day0.Add(time.Hour), byClient(adult))
			if rng.IntN(4) == 0 {
				c.Withdrawn = &Withdrawal{At: day0.Add(2 * time.Hour), By: byClient(adult)}
				consented = false
			}
			h = append(h, c)
		}
		var bans []*Expression
		for j := rng.IntN(3); j > 0; j-- {
			var p *Expression
			switch rng.IntN(3) {
			case 0:
				p = ban3(TargetDocument, sets[rng.IntN(len(sets))])
			case 1:
				p = ban3(TargetServiceTask, tasks[rng.IntN(len(tasks))])
			default:
				p = ban3(TargetController, ctrls[rng.IntN(len(ctrls))])
			}
			if rng.IntN(4) == 0 {
				p.Withdrawn = &Withdrawal{At: day0.Add(5 * time.Hour), By: byClient(adult)}
			} else {
				bans = append(bans, p)
			}
			h = append(h, p)
		}
		d := Document{SetID: sets[rng.IntN(len(sets))], Controller: ctrlA, ServiceTask: tasks[rng.IntN(len(tasks))],
			Group: groups[rng.IntN(len(groups))], Nullified: rng.IntN(8) == 0}
		rel := rng.IntN(5) > 0
		got := Decide(Fold(h, at), Request{Recipient: ctrlB, RecipientRelationship: rel, Purpose: PurposeDisclosure}, d)
		covered := false
		for _, p := range bans {
			covered = covered || p.Covers(d)
		}
		want := informed && consented && !covered && rel && !d.Nullified && (d.Group == "1" || d.Group == "5")
		if got.Allowed != want || (got.Allowed && got.Ground != "c") {
			t.Fatalf("case %d: allowed %v (%s), want %v: informed %v consented %v covered %v relationship %v doc %+v", i, got.Allowed, got.Reason, want, informed, consented, covered, rel, d)
		}
	}
}

func ban3(kind TargetKind, value string) *Expression {
	return prohibition("p", adult, day0.Add(3*time.Hour), byClient(adult), kind, value)
}
