// Package gen generates realistic signed Kanta social welfare documents for
// synthetic clients: client relationship documents with their structured
// form, client plans tied to cases, and replacements (corrections). It is
// used by `arkisto gen`, the demo, the tests and the benchmarks, and is
// streamed: memory is bounded by the number of clients, not documents.
package gen

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"html"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/xmldsig"
)

// Options shape the stream.
type Options struct {
	Seed    uint64 // 0: random
	Clients int    // synthetic clients; default 10
	// ReplaceEvery makes every n-th client document a replacement of the
	// client's latest document (0: never; default 0).
	ReplaceEvery int
	// StrippedEvery signs every n-th document over the whitespace-free form
	// and stores it indented, as a .NET signer does (0: never).
	StrippedEvery int
	// Now is the reference time; documents lie in the two years before it.
	Now time.Time
	// Organisers restricts custodians to the first n public organisations
	// (0: all public organisations).
	Organisers int
	// PerClient, when set, gives each client that many documents (its
	// relationship document first) while only Active clients are started
	// and not yet finished at a time: a new client starts as one finishes.
	// Every prefix of the stream then holds mostly clients with all their
	// documents, so reading a client's documents at any point of a run
	// reads as many of them. Once every client has started, the started
	// ones go on in turn. 0: every client starts first, then all in turn.
	PerClient int
	Active    int // clients in progress at a time with PerClient; default 16
}

// Client is a synthetic client with the documents archived so far.
type Client struct {
	ID           string // identity code, 900–999 range
	Given        string
	Family       string
	Gender       string // code of codes.Gender
	Birth        time.Time
	Org          *Organisation
	Relationship string // client relationship id
	Unit         int    // index into Org.Units
	Cases        []string
	latest       *cda.Header // newest document that may be replaced
	docs         int
}

// Doc is one generated document.
type Doc struct {
	Header *cda.Header
	XML    []byte
	Client *Client
	Org    *Organisation
	// Stripped is set when the document was signed over its
	// whitespace-free form (it verifies only after stripping).
	Stripped bool
}

// Generator streams documents.
type Generator struct {
	pki     *PKI
	opt     Options
	rng     *rand.Rand
	run     uint32
	seq     uint64
	clients []*Client
	orgs    []*Organisation
	turn    int
	active  []*Client // with PerClient: started and not finished
}

// New returns a generator over the PKI's world.
func New(p *PKI, opt Options) *Generator {
	if opt.Clients <= 0 {
		opt.Clients = 10
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.PerClient > 0 && opt.Active <= 0 {
		opt.Active = 16
	}
	seed := opt.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	g := &Generator{pki: p, opt: opt, rng: rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))}
	// A run number keeps ids of separate runs apart even with one seed.
	var b [4]byte
	_, _ = crand.Read(b[:])
	g.run = binary.LittleEndian.Uint32(b[:])%900000 + 100000
	for _, o := range p.Organisations {
		if o.Kind == "public" && (opt.Organisers == 0 || len(g.orgs) < opt.Organisers) {
			g.orgs = append(g.orgs, o)
		}
	}
	if len(g.orgs) == 0 {
		g.orgs = p.Organisations
	}
	return g
}

// Clients returns the clients started so far.
func (g *Generator) Clients() []*Client { return g.clients }

// Next generates the next document. Each client first gets a client
// relationship document; later turns add client documents and replacements.
func (g *Generator) Next() (*Doc, error) {
	if g.opt.PerClient > 0 {
		return g.nextWindowed()
	}
	var c *Client
	if len(g.clients) < g.opt.Clients {
		c = g.newClient()
		g.clients = append(g.clients, c)
		return g.relationshipDoc(c)
	}
	c = g.clients[g.turn%len(g.clients)]
	g.turn++
	if g.opt.ReplaceEvery > 0 && c.latest != nil && (g.turn%g.opt.ReplaceEvery) == 0 {
		return g.replacement(c)
	}
	return g.planDoc(c)
}

// nextWindowed is Next with Options.PerClient: clients finish their
// documents a few at a time instead of all growing together.
func (g *Generator) nextWindowed() (*Doc, error) {
	// Retire the clients that have all their documents.
	live := g.active[:0]
	for _, c := range g.active {
		if c.docs < g.opt.PerClient {
			live = append(live, c)
		}
	}
	g.active = live
	if len(g.clients) < g.opt.Clients && len(g.active) < g.opt.Active {
		c := g.newClient()
		g.clients = append(g.clients, c)
		g.active = append(g.active, c)
		return g.relationshipDoc(c)
	}
	pool := g.active
	if len(pool) == 0 { // every client has all its documents: go on in turn
		pool = g.clients
	}
	c := pool[g.turn%len(pool)]
	g.turn++
	if g.opt.ReplaceEvery > 0 && c.latest != nil && (g.turn%g.opt.ReplaceEvery) == 0 {
		return g.replacement(c)
	}
	return g.planDoc(c)
}

// RelationshipWith is a client relationship document of another
// organisation with an existing client, archived by that organisation:
// the client is then a client of both, as when a second controller
// starts serving them (the ground a disclosure between controllers
// needs). The client's own documents stay with its first organisation.
func (g *Generator) RelationshipWith(c *Client, org *Organisation) (*Doc, error) {
	if org == c.Org {
		return nil, fmt.Errorf("gen: client %s is already a client of %s", c.ID, org.Name)
	}
	if len(org.Units) < 2 {
		return nil, fmt.Errorf("gen: %s has no service unit", org.Name)
	}
	g.seq++
	other := *c
	other.Org, other.Unit = org, 1
	other.Relationship = fmt.Sprintf("%s.95777.%d.%d.%d", org.OID, g.opt.Now.Year(), g.run, g.seq)
	d, err := g.relationshipDoc(&other)
	if err != nil {
		return nil, err
	}
	d.Client = c
	return d, nil
}

func (g *Generator) newClient() *Client {
	org := g.orgs[len(g.clients)%len(g.orgs)] // round robin: every organiser gets clients
	birth := g.opt.Now.AddDate(-g.rng.IntN(90), 0, -g.rng.IntN(365)).UTC().Truncate(24 * time.Hour)
	sign := byte('-')
	if birth.Year() >= 2000 {
		sign = "ABCDEF"[g.rng.IntN(6)]
	} else if g.rng.IntN(4) == 0 {
		sign = "YXWVU"[g.rng.IntN(5)]
	}
	ind := 900 + g.rng.IntN(100)
	id, err := hetu.Make(birth, ind, sign)
	if err != nil {
		panic(err) // the inputs above are always valid
	}
	gender := "2"
	if ind%2 == 1 {
		gender = "1"
	}
	g.seq++
	c := &Client{
		ID: id, Given: givenNames[g.rng.IntN(len(givenNames))], Family: familyNames[g.rng.IntN(len(familyNames))],
		Gender: gender, Birth: birth, Org: org, Unit: 1 + g.rng.IntN(len(org.Units)-1),
	}
	c.Relationship = fmt.Sprintf("%s.95777.%d.%d.%d", org.OID, g.opt.Now.Year(), g.run, g.seq)
	return c
}

// RelationshipFor generates org's own client relationship document with a
// client that another organisation's documents already name, by identity
// code: a second controller's relationship with the client, as a
// disclosure between controllers needs. It is signed by org's system, like
// the stream's own relationship documents.
func (g *Generator) RelationshipFor(org *Organisation, clientID string) (*Doc, error) {
	code, err := hetu.Parse(clientID)
	if err != nil {
		return nil, fmt.Errorf("relationship document: client: %w", err)
	}
	gender := "2"
	if code.Individual%2 == 1 {
		gender = "1"
	}
	g.seq++
	c := &Client{
		ID: clientID, Given: givenNames[g.rng.IntN(len(givenNames))], Family: familyNames[g.rng.IntN(len(familyNames))],
		Gender: gender, Birth: code.Birth, Org: org, Unit: 1 + g.rng.IntN(len(org.Units)-1),
	}
	c.Relationship = fmt.Sprintf("%s.95777.%d.%d.%d", org.OID, g.opt.Now.Year(), g.run, g.seq)
	return g.relationshipDoc(c)
}

// Minor starts a synthetic client who is a minor of the given age (under
// 18), a client of the organisation, outside the stream Next makes, and
// returns the client relationship document: a child for a guardian to act
// for in the citizen view.
func (g *Generator) Minor(org *Organisation, age int) (*Client, *Doc, error) {
	if age < 0 || age >= 18 {
		return nil, nil, fmt.Errorf("gen: a minor is under 18, not %d", age)
	}
	birth := g.opt.Now.AddDate(-age, 0, -1-g.rng.IntN(300)).UTC().Truncate(24 * time.Hour)
	sign := byte('-')
	if birth.Year() >= 2000 {
		sign = 'A'
	}
	ind := 900 + g.rng.IntN(100)
	id, err := hetu.Make(birth, ind, sign)
	if err != nil {
		return nil, nil, fmt.Errorf("gen: minor: %w", err)
	}
	gender := "2"
	if ind%2 == 1 {
		gender = "1"
	}
	g.seq++
	c := &Client{
		ID: id, Given: givenNames[g.rng.IntN(len(givenNames))], Family: familyNames[g.rng.IntN(len(familyNames))],
		Gender: gender, Birth: birth, Org: org, Unit: 1 + g.rng.IntN(len(org.Units)-1),
	}
	c.Relationship = fmt.Sprintf("%s.95777.%d.%d.%d", org.OID, g.opt.Now.Year(), g.run, g.seq)
	d, err := g.relationshipDoc(c)
	return c, d, err
}

// PlanWithGuardianCode is a client plan of the second phase for the
// client, never hidden, with the guardian disclosure code given
// (1.2.246.537.6.1286.201901: 1 may be disclosed to guardians, 2 the minor
// forbids it, 3 disclosed despite the minor's prohibition).
func (g *Generator) PlanWithGuardianCode(c *Client, guardian string) (*Doc, error) {
	if !codes.GuardianDisclosure.Known(guardian) {
		return nil, fmt.Errorf("gen: %s is not a code of %s", guardian, codes.OIDGuardianDisclosure)
	}
	at := g.when()
	h := g.baseHeader(c, g.docID(c.Org, at), at)
	g.clientDoc(c, h, at)
	h.HideReason, h.HideReasonText = cda.Code{}, ""
	h.GuardianDisclosure = code(codes.GuardianDisclosure, guardian)
	c.docs++
	return g.finishPlan(c, h, at)
}

func (g *Generator) docID(org *Organisation, t time.Time) string {
	g.seq++
	return fmt.Sprintf("%s.95.%d.%d.%d", org.OID, t.Year(), g.run, g.seq)
}

func (g *Generator) when() time.Time {
	back := time.Duration(g.rng.Int64N(int64(2 * 365 * 24 * time.Hour)))
	t := g.opt.Now.Add(-back - time.Hour).Truncate(time.Second)
	return t.In(time.FixedZone("", 2*3600))
}

func (g *Generator) professional(org *Organisation) *Professional {
	var ps []*Professional
	for _, p := range g.pki.Professionals {
		if p.OrgOID == org.OID {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		ps = g.pki.Professionals
	}
	return ps[g.rng.IntN(len(ps))]
}

func code(sys *codes.System, c string) cda.Code {
	return cda.Code{Code: c, System: sys.OID, SystemName: sys.Name.FI, Display: sys.Display(c, "fi")}
}

func (g *Generator) baseHeader(c *Client, id string, at time.Time) *cda.Header {
	org := c.Org
	return &cda.Header{
		ID: id, SetID: id, Version: 1,
		EffectiveTime: at, CreationTime: at,
		Confidentiality: code(codes.Confidentiality, codes.ConfidentialSocialWelfare),
		Language:        "fi",
		Client: cda.Client{
			ID:        cda.ID{Root: hetu.OIDRoot, Extension: c.ID},
			Name:      cda.Name{Given: []string{c.Given}, CallName: c.Given, Family: c.Family},
			Gender:    code(codes.Gender, c.Gender),
			BirthTime: c.Birth.Format("20060102"),
		},
		Custodian:            cda.Organisation{OID: org.ControllerOID(), Name: org.Name},
		GuardianDisclosure:   code(codes.GuardianDisclosure, "1"),
		DisplayFormat:        code(codes.DisplayFormat, "2"),
		StructuredFormat:     code(codes.StructuredFormat, "5"),
		Software:             cda.Software{Moderator: "arkisto", Product: "arkisto gen", Version: "1"},
		RecordStatus:         code(codes.RecordStatus, "3"),
		Register:             code(codes.Register, codes.RegisterSocialWelfareClient),
		Organiser:            cda.Organisation{OID: org.ControllerOID(), Name: org.Name},
		RetentionClass:       code(codes.RetentionClass, codes.RetentionPermanent),
		SpecialContent:       code(codes.YesNo, "E"),
		ClientRelationshipID: c.Relationship,
	}
}

func (g *Generator) relationshipDoc(c *Client) (*Doc, error) {
	at := g.when()
	h := g.baseHeader(c, g.docID(c.Org, at), at)
	h.GeneralType = cda.Code{NullFlavor: "NA"}
	h.Author = cda.Author{ID: cda.ID{NullFlavor: "NA"}}
	h.DocumentGroup = code(codes.DocumentGroup, codes.GroupClientRelationship)
	h.ContentSpecification = "1.2.246.537.6.1505.1.2023.6.1"
	unit := c.Org.Units[c.Unit]
	h.Case.ServiceUnit = unit
	structured := RelationshipForm(RelationshipSpec{
		ID: c.Relationship, ClientID: c.ID, Given: c.Given, Family: c.Family, Birth: c.Birth, Gender: c.Gender,
		Organiser: cda.Organisation{OID: c.Org.ControllerOID(), Name: c.Org.Name}, Start: at,
		Tasks: []TaskSpec{{Code: "24", Units: []cda.Organisation{unit}, Providers: []ProviderSpec{{Unit: unit, Start: at}}}},
	})
	display := g.xhtml(h, "Asiakkuusasiakirja", c, []string{
		"Asiakkuuden yksilöintitunnus: " + c.Relationship,
		"Asiakkuus alkanut " + at.Format("02.01.2006") + ".",
		"Palveluyksikkö: " + unit.Name,
	})
	c.docs++
	return g.finish(c, h, display, structured, &Signing{system: c.Org})
}

var planTexts = []string{
	"Asiakkaan tilanne on arvioitu yhdessä perheen kanssa.",
	"Tavoitteena on tukea vanhemmuutta ja arjen sujumista.",
	"Perhetyötä järjestetään kaksi kertaa viikossa.",
	"Suunnitelma tarkistetaan kolmen kuukauden kuluttua.",
	"Asiakas on osallistunut suunnitelman laatimiseen.",
	"Lapsen mielipide on selvitetty ikätasoisesti.",
}

func (g *Generator) planDoc(c *Client) (*Doc, error) {
	at := g.when()
	h := g.baseHeader(c, g.docID(c.Org, at), at)
	g.clientDoc(c, h, at)
	c.docs++
	c.latest = h
	return g.finishPlan(c, h, at)
}

func (g *Generator) clientDoc(c *Client, h *cda.Header, at time.Time) {
	prof := g.professional(c.Org)
	h.GeneralType = code(codes.DocumentType, "15")
	h.SpecificType = code(codes.DocumentType, "15007")
	h.DocumentGroup = code(codes.DocumentGroup, codes.GroupLaterPhase)
	h.ServiceTask = code(codes.ServiceTask, "24")
	h.ContentSpecification = "1.2.246.537.6.1506.15007.2024.11.28"
	h.Author = cda.Author{ID: cda.ID{Root: codes.OIDProfessional, Extension: prof.RegistrationNumber}, Name: cda.Name{Given: []string{prof.Given}, Family: prof.Family}}
	h.ServiceProcess = &cda.ServiceProcess{Type: "Sosiaalihuollon palveluprosessi", Code: code(codes.ServiceProcess, "3")}
	if len(c.Cases) == 0 || g.rng.IntN(4) == 0 {
		g.seq++
		c.Cases = append(c.Cases, fmt.Sprintf("%s.95.%d.%d.%d", c.Org.OID, at.Year(), g.run, g.seq))
	}
	opened := at.Add(-time.Duration(g.rng.IntN(90)) * 24 * time.Hour)
	h.Case = cda.Case{ID: c.Cases[g.rng.IntN(len(c.Cases))], Opened: &opened, ServiceUnit: c.Org.Units[c.Unit], Responsible: cda.Organisation{OID: c.Org.ControllerOID(), Name: c.Org.Name}}
	if g.rng.IntN(10) == 0 {
		h.HideReason = code(codes.HideReason, "1")
		h.HideReasonText = "Viivästys"
	}
	h.Signers = []cda.SignerInfo{{
		RegistrationNumber: prof.RegistrationNumber,
		Name:               cda.Name{Given: []string{prof.Given}, Family: prof.Family},
		AuthMethod:         code(codes.AuthMethod, "1"),
		Time:               cda.FormatTS(at),
	}}
}

func (g *Generator) finishPlan(c *Client, h *cda.Header, at time.Time) (*Doc, error) {
	prof := g.professionalByNumber(h.Author.ID.Extension)
	paras := []string{planTexts[g.rng.IntN(len(planTexts))], planTexts[g.rng.IntN(len(planTexts))]}
	structured := map[string]any{"lapsiperheiden_palvelujen_asiakassuunnitelma": map[string]any{
		"asiakas": []any{map[string]any{"sukunimi": c.Family, "etunimet": c.Given, "henkilotunnus": map[string]any{"system": "urn:oid:" + hetu.OIDRoot, "value": c.ID}}},
		"suunnitelma": map[string]any{
			"kuvaus_asiakkaan_tilanteesta": paras[0],
			"palvelut_joita_asiakkaalle_suunnitellaan": []any{map[string]any{
				"sosiaalipalvelu": map[string]any{"system": "urn:oid:" + codes.OIDSocialService, "code": "45", "display": codes.SocialService.Display("45", "fi")},
			}},
			"suunnitelman_tarkistaminen": map[string]any{"paivamaara_ja_kellonaika": at.AddDate(0, 3, 0).Format(time.RFC3339)},
		},
		"paivamaara": at.Format("2006-01-02"),
		// The author is the client's personal case worker here.
		"omatyontekija": map[string]any{"sukunimi": prof.Family, "etunimet": prof.Given, "tehtavanimike": prof.Title,
			"palveluyksikko": map[string]any{"system": "urn:oid:1.2.246.537.6.202.2008", "code": h.Case.ServiceUnit.OID, "display": h.Case.ServiceUnit.Name}},
		"laatija": []any{map[string]any{"sukunimi": prof.Family, "etunimet": prof.Given, "tehtavanimike": prof.Title,
			"palveluyksikko": map[string]any{"system": "urn:oid:1.2.246.537.6.202.2008", "code": h.Case.ServiceUnit.OID, "display": h.Case.ServiceUnit.Name}}},
	}}
	display := g.xhtml(h, codes.DocumentType.Display("15007", "fi"), c, paras)
	return g.finish(c, h, display, structured, &Signing{professional: prof})
}

func (g *Generator) professionalByNumber(n string) *Professional {
	for _, p := range g.pki.Professionals {
		if p.RegistrationNumber == n {
			return p
		}
	}
	return g.pki.Professionals[0]
}

// replacement corrects the client's latest document: a new version of the
// same set, RPLC to the previous version.
func (g *Generator) replacement(c *Client) (*Doc, error) {
	prev := c.latest
	at := prev.EffectiveTime.Add(time.Duration(1+g.rng.IntN(72)) * time.Hour)
	if at.After(g.opt.Now) {
		at = g.opt.Now.Add(-time.Minute).Truncate(time.Second).In(prev.EffectiveTime.Location())
	}
	h := g.baseHeader(c, g.docID(c.Org, at), at)
	g.clientDoc(c, h, at)
	h.Case = prev.Case
	h.SetID = prev.SetID
	h.Version = prev.Version + 1
	h.Replaces = &cda.Parent{ID: prev.ID, SetID: prev.SetID, Version: prev.Version}
	c.docs++
	c.latest = h
	return g.finishPlan(c, h, at)
}

func (g *Generator) xhtml(h *cda.Header, title string, c *Client, paras []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<div class="soc-document" id="OID%s" xmlns="http://www.w3.org/1999/xhtml">`, html.EscapeString(h.ID))
	fmt.Fprintf(&b, `<div class="soc-header"><div class="soc-hdr1">%s</div></div>`, html.EscapeString(h.Custodian.Name))
	fmt.Fprintf(&b, `<h1 class="soc-fulltitle">%s</h1>`, html.EscapeString(title))
	fmt.Fprintf(&b, `<p>%s, %s<br/>%s</p>`, html.EscapeString(c.Family), html.EscapeString(c.Given), html.EscapeString(hetu.Mask(c.ID)))
	for _, p := range paras {
		fmt.Fprintf(&b, "<p>%s</p>", html.EscapeString(p))
	}
	if h.Version > 1 {
		fmt.Fprintf(&b, "<p>Korjattu versio %d.</p>", h.Version)
	}
	fmt.Fprintf(&b, `<p>%s, %s</p></div>`, html.EscapeString(streets[g.rng.IntN(len(streets))]), html.EscapeString(h.EffectiveTime.Format("02.01.2006 15.04")))
	return []byte(b.String())
}

// Signing says who signs: a professional, or the organisation's system.
type Signing struct {
	professional *Professional
	system       *Organisation
}

func (g *Generator) finish(c *Client, h *cda.Header, display []byte, structured any, s *Signing) (*Doc, error) {
	js, err := json.Marshal(structured)
	if err != nil {
		return nil, err
	}
	stripped := g.opt.StrippedEvery > 0 && (g.seq%uint64(g.opt.StrippedEvery)) == 0
	xml, err := Render(h, cda.Body{DisplayMediaType: cda.MediaXHTML, Display: display, Structured: js}, s.signer(), stripped)
	if err != nil {
		return nil, err
	}
	return &Doc{Header: h, XML: xml, Client: c, Org: c.Org, Stripped: stripped}, nil
}

func (s *Signing) signer() *xmldsig.Signer {
	if s.professional != nil {
		id := s.professional.Identity
		return &xmldsig.Signer{Key: id.Key, Cert: id.Cert, Chain: id.Chain, TypeCode: codes.SignatureProfessional}
	}
	id := s.system.System
	return &xmldsig.Signer{Key: id.Key, Cert: id.Cert, Chain: id.Chain, TypeCode: codes.SignatureSystem, Enveloped: true}
}

// Render builds, signs and serialises a document. With stripped, the
// signature covers the whitespace-free form while the bytes are indented.
func Render(h *cda.Header, body cda.Body, signer *xmldsig.Signer, stripped bool) ([]byte, error) {
	b := cda.Build(h, body, true)
	at := h.CreationTime.Add(time.Minute)
	if now := time.Now(); at.After(now) {
		at = now
	}
	if err := signer.Sign(b.Collection, b.Body, "sig-1", at, stripped); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return b.Bytes()
}

// RelationshipSpec describes the client relationship a client relationship
// document states.
type RelationshipSpec struct {
	ID       string
	ClientID string
	// ClientRoot is the client id's root: the identity code root (the
	// default) or a temporary identifier's, which the form states as
	// tilapainen_yksilointitunnus.
	ClientRoot string
	Given      string
	Family     string
	Birth      time.Time
	Gender     string
	Organiser  cda.Organisation
	Start      time.Time
	End        time.Time // zero: open
	Tasks      []TaskSpec
}

// TaskSpec is a service task with the organiser's units and the providers.
type TaskSpec struct {
	Code      string
	Units     []cda.Organisation
	Providers []ProviderSpec
}

// ProviderSpec names a service provider: its unit (an OID under the
// provider's organisation) and its period; zero times are left out.
type ProviderSpec struct {
	Unit       cda.Organisation
	Start, End time.Time
}

func dateOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format("2006-01-02")
}

// RelationshipForm writes the structured form (asiakkuusasiakirja JSON) of a
// client relationship document, in the national structure.
func RelationshipForm(r RelationshipSpec) map[string]any {
	unitRef := func(u cda.Organisation) map[string]any {
		return map[string]any{"system": "urn:oid:1.2.246.537.6.202.2008", "code": u.OID, "display": u.Name}
	}
	var tasks []any
	for _, t := range r.Tasks {
		var units, providers []any
		for _, u := range t.Units {
			units = append(units, map[string]any{"palveluyksikon_nimi": unitRef(u), "asiakkuuden_alkamispvm": dateOrNil(r.Start)})
		}
		for _, p := range t.Providers {
			pm := map[string]any{
				"sosiaalipalvelu":     []any{map[string]any{"system": "urn:oid:" + codes.OIDSocialService, "code": "45", "display": codes.SocialService.Display("45", "fi")}},
				"palveluyksikon_nimi": unitRef(p.Unit),
			}
			if !p.Start.IsZero() {
				pm["asiakkuuden_alkamispvm"] = p.Start.Format("2006-01-02")
			}
			if !p.End.IsZero() {
				pm["asiakkuuden_paattymispvm"] = p.End.Format("2006-01-02")
			}
			providers = append(providers, pm)
		}
		tasks = append(tasks, map[string]any{
			"palvelutehtava":                     map[string]any{"system": "urn:oid:" + codes.OIDServiceTask, "code": t.Code, "display": codes.ServiceTask.Display(t.Code, "fi")},
			"palvelunjarjestajan_palveluyksikko": units,
			"palveluntuottaja":                   providers,
		})
	}
	asiakkuus := map[string]any{"asiakkuuden_alkamispvm": dateOrNil(r.Start)}
	if !r.End.IsZero() {
		asiakkuus["asiakkuuden_paattymispvm"] = r.End.Format("2006-01-02")
	}
	client := map[string]any{"sukunimi": r.Family, "etunimet": r.Given, "turvakielto": false}
	if r.ClientRoot == "" || r.ClientRoot == hetu.OIDRoot {
		client["henkilotunnus"] = map[string]any{"system": hetu.OIDRoot, "value": r.ClientID}
	} else {
		client["tilapainen_yksilointitunnus"] = map[string]any{"system": r.ClientRoot, "value": r.ClientID}
	}
	if !r.Birth.IsZero() {
		client["syntymaaika"] = r.Birth.Format("2006-01-02")
	}
	if r.Gender != "" {
		client["sukupuoli"] = map[string]any{"system": "urn:oid:" + codes.OIDGender, "code": r.Gender, "display": strings.ToLower(codes.Gender.Display(r.Gender, "fi"))}
	}
	return map[string]any{"asiakkuusasiakirja": map[string]any{
		"asiakkuuden_yksilointitunnus":        map[string]any{"system": "urn:oid:1.2.246.1", "value": r.ID},
		"asiakas":                             client,
		"sosiaalihuollon_asiakkuus":           asiakkuus,
		"palvelunjarjestajan_toimintayksikko": unitRef(r.Organiser),
		"sosiaalihuollon_palvelutehtava":      tasks,
	}}
}

// MinimalBody is a small valid body for a header: an XHTML display form
// naming the document, and a structured form that fits its document group
// (a client relationship with one service task for a client relationship
// document). Tests use it to render variants of generated documents.
func MinimalBody(h *cda.Header) (cda.Body, error) {
	structured := []byte(`{"v":1}`)
	if h.DocumentGroup.Code == codes.GroupClientRelationship {
		var err error
		structured, err = json.Marshal(RelationshipForm(RelationshipSpec{
			ID: h.ClientRelationshipID, ClientID: h.Client.ID.Extension, ClientRoot: h.Client.ID.Root, Organiser: h.Custodian, Start: h.EffectiveTime,
			Tasks: []TaskSpec{{Code: "24"}},
		}))
		if err != nil {
			return cda.Body{}, err
		}
	}
	return cda.Body{
		DisplayMediaType: cda.MediaXHTML,
		Display:          []byte(`<div xmlns="http://www.w3.org/1999/xhtml"><p>` + html.EscapeString(h.ID) + `</p></div>`),
		Structured:       structured,
	}, nil
}
