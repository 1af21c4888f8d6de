package gen

import (
	crand "crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/pki"
)

// Organisation is a synthetic organisation with its units and the signing
// identity of its client information system.
type Organisation struct {
	OID        string             `json:"oid"`
	BusinessID string             `json:"businessId"`
	Name       string             `json:"name"`
	Kind       string             `json:"kind"` // public or private
	Units      []cda.Organisation `json:"units"`
	SystemName string             `json:"systemName"`

	System *pki.Identity `json:"-"`
}

// Professional is a synthetic social welfare professional.
type Professional struct {
	RegistrationNumber string `json:"registrationNumber"`
	Given              string `json:"given"`
	Family             string `json:"family"`
	Title              string `json:"title"`
	OrgOID             string `json:"orgOid"`

	Identity *pki.Identity `json:"-"`
}

// ControllerOID is the OID the organisation is registered under as a
// controller and custodian: its top unit, <organisation>.10.0.
func (o *Organisation) ControllerOID() string { return o.OID + ".10.0" }

// MarshalJSON writes the organisation with its controller OID beside its
// root OID, so that world.json says plainly which OID to onboard.
func (o *Organisation) MarshalJSON() ([]byte, error) {
	type plain Organisation
	return json.Marshal(struct {
		ControllerOID string `json:"controllerOid"`
		*plain
	}{o.ControllerOID(), (*plain)(o)})
}

// PKI is the generator's world: a test CA, organisations with system
// certificates and professionals with signing certificates.
type PKI struct {
	// About says how to read the file; written by Save.
	About         string          `json:"about,omitempty"`
	CA            *pki.CA         `json:"-"`
	Organisations []*Organisation `json:"organisations"`
	Professionals []*Professional `json:"professionals"`
}

// Roots returns a pool holding the CA.
func (p *PKI) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.CA.Cert)
	return pool
}

// PKIOptions shape a new PKI.
type PKIOptions struct {
	Seed                uint64
	Organisations       int // default 2 public organisers plus 1 private provider
	ProfessionalsPerOrg int // default 3
	KeyType             pki.KeyType
	NotBefore           time.Time     // default three years ago
	Validity            time.Duration // default six years
}

var publicOrgNames = []string{
	"Pohjolan hyvinvointialue", "Etelärannikon hyvinvointialue", "Järvimaan hyvinvointialue",
	"Harjun hyvinvointialue", "Saariston hyvinvointialue", "Kuusiston hyvinvointialue",
}

var privateOrgNames = []string{"Hoivapalvelu Esimerkki Oy", "Perhetuki Malli Oy", "Tukipiste Testi Oy"}

var unitNames = []string{
	"Lapsiperheiden sosiaaliohjaus", "Perhekeskus", "Lapsiperheiden palvelutarpeen arviointi",
	"Kasvatus- ja perheneuvola", "Perhetyö", "Lapsiperheiden kotipalvelu",
}

func businessIDCheck(n int) int { return oid.BusinessIDCheck(n) }

// caName names a new test CA with a random suffix: each PKI has keys of
// its own, and a server that trusts several of them (a demo, a benchmark,
// a test world) tells them apart in its log by name.
func caName() string {
	var b [3]byte
	crand.Read(b[:]) // never fails (crypto/rand)
	return fmt.Sprintf("arkisto TEST Social Welfare CA %x", b)
}

// NewPKI makes a CA, organisations and professionals with fresh keys.
func NewPKI(opt PKIOptions) (*PKI, error) {
	if opt.Organisations <= 0 {
		opt.Organisations = 3
	}
	if opt.ProfessionalsPerOrg <= 0 {
		opt.ProfessionalsPerOrg = 3
	}
	if opt.NotBefore.IsZero() {
		// Generated documents lie up to two years back; their signing
		// certificates must have been valid then.
		opt.NotBefore = time.Now().AddDate(-3, 0, 0).Truncate(time.Hour)
	}
	if opt.Validity == 0 {
		opt.Validity = 6 * 365 * 24 * time.Hour
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	ca, err := pki.NewCA(caName(), opt.KeyType, opt.NotBefore, opt.Validity+365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	p := &PKI{CA: ca}
	used := map[int]bool{}
	for i := 0; i < opt.Organisations; i++ {
		var n, check int
		for {
			n = 1000000 + rng.IntN(8999999)
			if check = businessIDCheck(n); check >= 0 && !used[n] {
				break
			}
		}
		used[n] = true
		o := &Organisation{BusinessID: fmt.Sprintf("%07d-%d", n, check), Kind: "public"}
		o.OID = fmt.Sprintf("1.2.246.10.%07d%d", n, check)
		// The last organisation is a private provider when there are three or more.
		if opt.Organisations >= 3 && i == opt.Organisations-1 {
			o.Kind, o.Name = "private", privateOrgNames[i%len(privateOrgNames)]
		} else {
			o.Name = publicOrgNames[i%len(publicOrgNames)]
		}
		o.Units = append(o.Units, cda.Organisation{OID: o.OID + ".10.0", Name: o.Name})
		for u := 0; u < 3; u++ {
			o.Units = append(o.Units, cda.Organisation{
				OID:  fmt.Sprintf("%s.10.%d", o.OID, 4000+rng.IntN(99999)),
				Name: fmt.Sprintf("%s %d, %s", unitNames[rng.IntN(len(unitNames))], u+1, o.Name),
			})
		}
		o.SystemName = "ats-" + slug(o.Name)
		sys, err := ca.Issue(pki.Template{Subject: pki.SystemSubject(o.ControllerOID(), o.Name, o.SystemName), KeyType: opt.KeyType, NotBefore: opt.NotBefore, Validity: opt.Validity, TLSClient: true})
		if err != nil {
			return nil, err
		}
		o.System = sys
		p.Organisations = append(p.Organisations, o)
		for j := 0; j < opt.ProfessionalsPerOrg; j++ {
			pr := &Professional{
				RegistrationNumber: fmt.Sprintf("%011d", 10000000000+rng.Int64N(89999999999)),
				Given:              givenNames[rng.IntN(len(givenNames))],
				Family:             familyNames[rng.IntN(len(familyNames))],
				Title:              titles[rng.IntN(len(titles))],
				OrgOID:             o.OID,
			}
			id, err := ca.Issue(pki.Template{Subject: pki.ProfessionalSubject(pr.RegistrationNumber, pr.Given, pr.Family), KeyType: opt.KeyType, NotBefore: opt.NotBefore, Validity: opt.Validity})
			if err != nil {
				return nil, err
			}
			pr.Identity = id
			p.Professionals = append(p.Professionals, pr)
		}
	}
	return p, nil
}

// Save writes the PKI into dir: ca.crt/ca.key, world.json, and per
// organisation system-<n>.crt/.key, per professional prof-<n>.crt/.key.
func (p *PKI) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := p.CA.Save(filepath.Join(dir, "ca")); err != nil {
		return err
	}
	for i, o := range p.Organisations {
		if err := o.System.Save(filepath.Join(dir, fmt.Sprintf("system-%d", i+1))); err != nil {
			return err
		}
	}
	for i, pr := range p.Professionals {
		if err := pr.Identity.Save(filepath.Join(dir, fmt.Sprintf("prof-%d", i+1))); err != nil {
			return err
		}
	}
	p.About = worldAbout
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "world.json"), b, 0o644)
}

const worldAbout = "Each organisation's controllerOid is the OID to onboard (arkisto admin org add --oid) and the custodian of its documents; " +
	"oid is the organisation's root (1.2.246.10.<business id>), under which its units and document ids lie. " +
	"systemName's certificate is system-N.crt, N its place in this list."

// LoadPKI reads a PKI written by Save.
func LoadPKI(dir string) (*PKI, error) {
	b, err := os.ReadFile(filepath.Join(dir, "world.json"))
	if err != nil {
		return nil, err
	}
	p := &PKI{}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("%s/world.json: %w", dir, err)
	}
	ca, err := pki.Load(filepath.Join(dir, "ca"))
	if err != nil {
		return nil, err
	}
	p.CA = &pki.CA{Identity: *ca}
	for i, o := range p.Organisations {
		if o.System, err = pki.Load(filepath.Join(dir, fmt.Sprintf("system-%d", i+1))); err != nil {
			return nil, err
		}
	}
	for i, pr := range p.Professionals {
		if pr.Identity, err = pki.Load(filepath.Join(dir, fmt.Sprintf("prof-%d", i+1))); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// LoadOrCreatePKI loads the PKI in dir, or creates and saves one there.
func LoadOrCreatePKI(dir string, opt PKIOptions) (*PKI, error) {
	p, err := LoadPKI(dir)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if p, err = NewPKI(opt); err != nil {
		return nil, err
	}
	return p, p.Save(dir)
}

// slug is the first word of a name in lower-case ASCII, for system names
// that are easy to type ("Etelärannikon hyvinvointialue" -> "etelarannikon").
func slug(name string) string {
	word, _, _ := strings.Cut(name, " ")
	r := strings.NewReplacer("ä", "a", "ö", "o", "å", "a", "Ä", "a", "Ö", "o", "Å", "a")
	return strings.ToLower(r.Replace(word))
}
