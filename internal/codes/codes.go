// Package codes holds the national code sets the archive reads, with the
// codes it knows and their Finnish, Swedish and English display names.
//
// The national code server is authoritative. The archive ships only the
// codes it needs; a code set is "closed" when the archive's rules depend on
// its values (an unknown code is then refused) and "open" otherwise (an
// unknown code of the right code system is accepted and shown by its code).
package codes

// Text is a display name in the three user interface languages.
type Text struct{ FI, SV, EN string }

// In returns the text in lang ("fi", "sv", "en"), falling back to Finnish.
func (t Text) In(lang string) string {
	switch lang {
	case "sv":
		if t.SV != "" {
			return t.SV
		}
	case "en":
		if t.EN != "" {
			return t.EN
		}
	}
	return t.FI
}

// System is a code set.
type System struct {
	OID    string
	Name   Text
	Closed bool // unknown codes are refused
	Codes  map[string]Text
}

// Known reports whether code is listed in the set.
func (s *System) Known(code string) bool {
	_, ok := s.Codes[code]
	return ok
}

// Display returns the code's display name in lang, or the code itself.
func (s *System) Display(code, lang string) string {
	if t, ok := s.Codes[code]; ok {
		return t.In(lang)
	}
	return code
}

// OIDs of code sets and identifier roots the archive uses.
const (
	OIDIdentityCode       = "1.2.246.21"
	OIDProfessional       = "1.2.246.537.26"
	OIDConfidentiality    = "1.2.246.777.5.99902.2006"
	OIDDocumentType       = "1.2.246.537.6.1506.201701"
	OIDDocumentGroup      = "1.2.246.537.6.1505.201601"
	OIDServiceTask        = "1.2.246.537.6.1221.201601"
	OIDSocialService      = "1.2.246.537.6.1222.201601"
	OIDRegister           = "1.2.246.537.6.1264.201701"
	OIDRetentionClass     = "1.2.246.537.6.1258.201601"
	OIDGuardianDisclosure = "1.2.246.537.6.1286.201901"
	OIDHideReason         = "1.2.246.537.6.1288.201901"
	OIDServiceProcess     = "1.2.246.537.6.1277.201701"
	OIDSignatureType      = "1.2.246.537.5.40127.2006"
	OIDAuthMethod         = "1.2.246.537.5.40128.2006"
	OIDRecordStatus       = "1.2.246.537.5.40154.2008"
	OIDDisplayFormat      = "1.2.246.537.6.1502.201601"
	OIDStructuredFormat   = "1.2.246.537.5.40179.2008"
	OIDServiceRequest     = "1.2.246.537.6.1503.201601"
	OIDUsageSituation     = "1.2.246.537.6.1289.201901"
	OIDGender             = "1.2.246.537.5.1.1997"
	OIDYesNo              = "1.2.246.537.6.112.2007"
	OIDCDATypeID          = "2.16.840.1.113883.1.3"
)

// Code set values the archive's rules refer to by name.
const (
	ConfidentialSocialWelfare   = "6"
	GroupClientRelationship     = "1"
	GroupLaterPhase             = "5"
	RegisterSocialWelfareClient = "1"
	RetentionPermanent          = "1"
	SignatureProfessional       = "1"
	SignatureSystem             = "3"
	UsageOwnRegister            = "1"
)

var systems = map[string]*System{}

func register(s *System) *System {
	systems[s.OID] = s
	return s
}

// Lookup returns the code set with the OID, or nil.
func Lookup(oid string) *System { return systems[oid] }

// The code sets.
var (
	Confidentiality = register(&System{
		OID: OIDConfidentiality, Closed: true,
		Name: Text{"KanTa-palvelut - Asiakirjan luottamuksellisuus", "Kanta-tjänster - Dokumentets konfidentialitet", "Kanta services - document confidentiality"},
		Codes: map[string]Text{
			"6": {"Sosiaalihuollon salassapidettävä", "Sekretessbelagd inom socialvården", "Confidential social welfare information"},
		},
	})
	DocumentType = register(&System{
		OID:  OIDDocumentType,
		Name: Text{"Sosiaalihuolto - Asiakasasiakirjatyyppi", "Socialvården - Klientdokumenttyp", "Social welfare - client document type"},
		Codes: map[string]Text{
			"15":    {"Suunnitelma", "Plan", "Plan"},
			"15007": {"Lapsiperheiden palvelujen asiakassuunnitelma", "Klientplan för tjänster för barnfamiljer", "Client plan of services for families with children"},
		},
	})
	DocumentGroup = register(&System{
		OID:  OIDDocumentGroup,
		Name: Text{"Sosiaalihuolto - Asiakirjaryhmä", "Socialvården - Dokumentgrupp", "Social welfare - document group"},
		Codes: map[string]Text{
			"1": {"Asiakkuusasiakirja", "Klientrelationsdokument", "Client relationship document"},
			"5": {"Toisen tai myöhemmän vaiheen asiakasasiakirja", "Klientdokument i andra eller senare fas", "Client document of the second or a later phase"},
		},
	})
	ServiceTask = register(&System{
		OID:  OIDServiceTask,
		Name: Text{"Sosiaalihuolto - Palvelutehtävä", "Socialvården - Serviceuppgift", "Social welfare - service task"},
		Codes: map[string]Text{
			"24": {"Lapsiperheiden palvelut", "Tjänster för barnfamiljer", "Services for families with children"},
		},
	})
	SocialService = register(&System{
		OID:  OIDSocialService,
		Name: Text{"Sosiaalihuolto - Sosiaalipalvelu", "Socialvården - Socialservice", "Social welfare - social service"},
		Codes: map[string]Text{
			"15": {"Kasvatus- ja perheneuvonta", "Uppfostrings- och familjerådgivning", "Child guidance and family counselling"},
			"45": {"Sosiaaliohjaus", "Social handledning", "Social guidance"},
		},
	})
	Register = register(&System{
		OID: OIDRegister, Closed: true,
		Name: Text{"Sosiaalihuolto - Asiakirjan rekisteritunnus", "Socialvården - Dokumentets registerkod", "Social welfare - document register"},
		Codes: map[string]Text{
			"1": {"Sosiaalihuollon asiakasrekisteri", "Socialvårdens klientregister", "Social welfare client register"},
		},
	})
	RetentionClass = register(&System{
		OID:  OIDRetentionClass,
		Name: Text{"Sosiaalihuolto - Asiakirjan kokonaissäilytysaika", "Socialvården - Dokumentets totala förvaringstid", "Social welfare - total retention period"},
		Codes: map[string]Text{
			"1": {"Säilytetään pysyvästi", "Förvaras permanent", "Kept permanently"},
		},
	})
	GuardianDisclosure = register(&System{
		OID: OIDGuardianDisclosure, Closed: true,
		Name: Text{"Sosiaalihuolto - Alaikäisen asiakastietojen luovuttaminen huoltajille", "Socialvården - Utlämnande av minderårigs klientuppgifter till vårdnadshavare", "Social welfare - disclosure of a minor's data to guardians"},
		Codes: map[string]Text{
			"1": {"Alaikäisen asiakirja voidaan luovuttaa huoltajille", "Den minderåriges dokument får lämnas ut till vårdnadshavare", "The minor's document may be disclosed to guardians"},
			"2": {"Alaikäinen kieltää luovuttamisen huoltajille", "Den minderåriga förbjuder utlämnande till vårdnadshavare", "The minor forbids disclosure to guardians"},
			"3": {"Luovutetaan alaikäisen kiellosta huolimatta", "Lämnas ut trots den minderårigas förbud", "Disclosed despite the minor's prohibition"},
		},
	})
	HideReason = register(&System{
		OID:  OIDHideReason,
		Name: Text{"Sosiaalihuolto - Perustelut asiakirjan näyttämisen rajaamiselle Omakannassa", "Socialvården - Grunder för att begränsa visning i MittKanta", "Social welfare - reason to delay or hide from the citizen view"},
		Codes: map[string]Text{
			"1": {"Asiakirjan näyttämisestä aiheutuu vaaraa asiakkaan terveydelle tai kehitykselle", "Visning av dokumentet äventyrar klientens hälsa eller utveckling", "Showing the document endangers the client's health or development"},
		},
	})
	ServiceProcess = register(&System{
		OID:  OIDServiceProcess,
		Name: Text{"Sosiaalihuolto - Sosiaalihuollon palveluprosessi", "Socialvården - Serviceprocess", "Social welfare - service process"},
		Codes: map[string]Text{
			"3": {"Asiakkuuden suunnittelu", "Planering av klientrelationen", "Planning of the client relationship"},
		},
	})
	SignatureType = register(&System{
		OID: OIDSignatureType, Closed: true,
		Name: Text{"KanTa-palvelut - Sähköisen allekirjoituksen tyyppi", "Kanta-tjänster - Typ av elektronisk signatur", "Kanta services - electronic signature type"},
		Codes: map[string]Text{
			"1": {"Ammattihenkilön allekirjoitus", "Yrkesutbildad persons signatur", "Professional's signature"},
			"3": {"Järjestelmäallekirjoitus", "Systemsignatur", "System signature"},
		},
	})
	AuthMethod = register(&System{
		OID:  OIDAuthMethod,
		Name: Text{"KanTa-palvelut - Tunnistautumistapa", "Kanta-tjänster - Autentiseringssätt", "Kanta services - authentication method"},
		Codes: map[string]Text{
			"1": {"Sosiaali- ja terveydenhuollon ammattihenkilön varmenne", "Certifikat för yrkesutbildade personer inom social- och hälsovården", "Social and health care professional certificate"},
		},
	})
	RecordStatus = register(&System{
		OID:  OIDRecordStatus,
		Name: Text{"eArkisto - Asiakirjan valmistumisen tila", "eArkiv - Dokumentets färdigställandestatus", "eArchive - record completion status"},
		Codes: map[string]Text{
			"3": {"Arkistointivalmis", "Färdig för arkivering", "Ready for archiving"},
		},
	})
	DisplayFormat = register(&System{
		OID:  OIDDisplayFormat,
		Name: Text{"Sosiaalihuolto - Asiakirjan näyttömuodon formaatti", "Socialvården - Visningsformens format", "Social welfare - display form format"},
		Codes: map[string]Text{
			"2": {"XHTML_1.1", "XHTML_1.1", "XHTML_1.1"},
		},
	})
	StructuredFormat = register(&System{
		OID:  OIDStructuredFormat,
		Name: Text{"eArkisto - Asiakirjan tiedostomuoto", "eArkiv - Dokumentets filformat", "eArchive - document file format"},
		Codes: map[string]Text{
			"5": {"JSON", "JSON", "JSON"},
		},
	})
	ServiceRequest = register(&System{
		OID:  OIDServiceRequest,
		Name: Text{"Sosiaalihuolto - Arkistosanomien palvelupyynnöt", "Socialvården - Tjänstebegäranden i arkivmeddelanden", "Social welfare - archive message service requests"},
		Codes: map[string]Text{
			"SP1":  {"Asiakkuusasiakirjan arkistointi", "Arkivering av klientrelationsdokument", "Archive a client relationship document"},
			"SP17": {"Asiakasasiakirjan arkistointi", "Arkivering av klientdokument", "Archive a client document"},
		},
	})
	UsageSituation = register(&System{
		OID:  OIDUsageSituation,
		Name: Text{"Sosiaalihuolto - Asiakastiedon arkiston käyttötilanne", "Socialvården - Användningssituation för klientdataarkivet", "Social welfare - archive usage situation"},
		Codes: map[string]Text{
			"1": {"Palvelunjärjestäjän rekisterin oma käyttö", "Serviceanordnarens egen användning av registret", "The organiser's own use of its register"},
		},
	})
	Gender = register(&System{
		OID:  OIDGender,
		Name: Text{"AR/YDIN - Sukupuoli", "AR/YDIN - Kön", "AR/YDIN - gender"},
		Codes: map[string]Text{
			"1": {"Mies", "Man", "Male"},
			"2": {"Nainen", "Kvinna", "Female"},
		},
	})
	YesNo = register(&System{
		OID:  OIDYesNo,
		Name: Text{"AR/YDIN - Kyllä/Ei/Ei tietoa", "AR/YDIN - Ja/Nej/Okänt", "AR/YDIN - yes/no/unknown"},
		Codes: map[string]Text{
			"K": {"Kyllä", "Ja", "Yes"},
			"E": {"Ei", "Nej", "No"},
		},
	})
)
