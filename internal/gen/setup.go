package gen

import (
	"crypto/x509"

	"github.com/arkisto/arkisto/internal/archive"
)

// Setup is what onboarding the generated world takes: its CA as the trust
// anchor, its organisations with their client registers and, with
// systems, each organisation's system.
func (p *PKI) Setup(systems bool) archive.Setup {
	s := archive.Setup{Anchors: []*x509.Certificate{p.CA.Cert}}
	for _, o := range p.Organisations {
		s.Organisations = append(s.Organisations, &archive.Organisation{OID: o.ControllerOID(), Name: o.Name, Kind: o.Kind})
		if systems {
			s.Systems = append(s.Systems, &archive.System{Name: o.SystemName, Organisation: o.ControllerOID(), Cert: o.System.Cert})
		}
	}
	return s
}
