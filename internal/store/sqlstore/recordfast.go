package sqlstore

import (
	"errors"
	"hash/maphash"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/jsoncodec"
)

// A list decodes every record it returns, and go-json spent half of a
// service-level list doing so (docs/benchmarks.md, issue 16). decodeFast
// reads the record as the archive writes it (compact JSON, the fields of
// archive.Record in their own spelling, each once) by hand, keeping one
// copy of the strings that repeat from record to record (code systems,
// display texts, organisations). Whatever it is not sure of (an unknown or
// repeated key, a number that is not a plain integer, a nullification in
// the record, trailing bytes, any syntax error) makes it give up, and the
// record is decoded by jsoncodec.Unmarshal as before, which decides and
// words any refusal. FuzzDecodeFast holds the two to the same records.

// errNotSure is decodeFast giving the record back to jsoncodec.
var errNotSure = errors.New("sqlstore: the fast record decoding is not sure")

// decodeFast decodes a stored record into r (zero), or returns errNotSure
// with r in any state.
func decodeFast(b []byte, r *archive.Record) error {
	d := recDecoder{b: b}
	d.record(r)
	d.ws()
	if d.bad || d.i != len(d.b) {
		return errNotSure
	}
	return nil
}

type recDecoder struct {
	b   []byte
	i   int
	bad bool
}

func (d *recDecoder) fail() { d.bad = true }

func (d *recDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek is the next byte after white space (0 at the end).
func (d *recDecoder) peek() byte {
	d.ws()
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

func (d *recDecoder) expect(c byte) bool {
	if d.peek() != c {
		d.fail()
		return false
	}
	d.i++
	return true
}

// null consumes a null if one is next: the field keeps its zero value, as
// encoding/json leaves it (the record decoded into is new).
func (d *recDecoder) null() bool {
	if d.peek() == 'n' && len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// object reads an object, calling member for each key with the value
// next; member returns false for a key it does not know.
func (d *recDecoder) object(member func(key []byte) bool) {
	if d.bad || !d.expect('{') {
		return
	}
	if d.peek() == '}' {
		d.i++
		return
	}
	for !d.bad {
		key, ok := d.rawString()
		if !ok || !d.expect(':') {
			d.fail()
			return
		}
		if !member(key) {
			d.fail()
			return
		}
		if d.bad {
			return
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return
		default:
			d.fail()
			return
		}
	}
}

// array reads an array, calling elem for each element.
func (d *recDecoder) array(elem func()) {
	if d.bad || !d.expect('[') {
		return
	}
	if d.peek() == ']' {
		d.i++
		return
	}
	for !d.bad {
		elem()
		if d.bad {
			return
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return
		default:
			d.fail()
			return
		}
	}
}

// once marks a field seen; a repeated key is left to jsoncodec.
func (d *recDecoder) once(seen *uint64, bit uint) bool {
	if *seen&(1<<bit) != 0 {
		d.fail()
		return false
	}
	*seen |= 1 << bit
	return true
}

// rawString reads a string with no escapes, valid UTF-8 and no control
// characters, returning its bytes; anything else is not sure.
func (d *recDecoder) rawString() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	b, start := d.b, d.i+1
	ascii := true
	for j := start; j < len(b); j++ {
		switch strClass[b[j]] {
		case 0:
			continue
		case 2:
			ascii = false
			continue
		}
		if b[j] != '"' {
			return nil, false // an escape or a control character
		}
		s := b[start:j]
		if !ascii && !utf8.Valid(s) {
			return nil, false
		}
		d.i = j + 1
		return s, true
	}
	return nil, false
}

// strClass is 0 for a byte a plain string holds as it is, 1 for the
// quote, the backslash and control characters, 2 for bytes of UTF-8
// sequences.
var strClass = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c < 0x20 || c == '"' || c == '\\':
			t[c] = 1
		case c >= 0x80:
			t[c] = 2
		}
	}
	return t
}()

// str reads a string value; with escapes (or bytes that are not UTF-8)
// jsoncodec decodes the string alone, as it would within the record.
func (d *recDecoder) str() string {
	if d.bad || d.null() {
		return ""
	}
	start := d.i
	if s, ok := d.rawString(); ok {
		return string(s)
	}
	return d.quoted(start)
}

// code reads a string that repeats between records (a code, a code
// system, a display text, an organisation): one copy of it is kept.
func (d *recDecoder) code() string {
	if d.bad || d.null() {
		return ""
	}
	start := d.i
	if s, ok := d.rawString(); ok {
		return intern(s)
	}
	return d.quoted(start)
}

// quoted decodes the string at start that rawString was not sure of:
// the escapes a JSON encoder writes by hand, anything else (a surrogate,
// bytes that are not UTF-8) with jsoncodec, the string alone.
func (d *recDecoder) quoted(start int) string {
	d.i = start
	if d.peek() != '"' {
		d.fail()
		return ""
	}
	end := -1
	for j := d.i + 1; j < len(d.b); j++ {
		if c := d.b[j]; c == '\\' {
			j++
		} else if c == '"' {
			end = j + 1
			break
		}
	}
	if end < 0 {
		d.fail()
		return ""
	}
	if s, ok := unescape(d.b[d.i+1 : end-1]); ok {
		d.i = end
		return s
	}
	var s string
	if jsoncodec.Unmarshal(d.b[d.i:end], &s) != nil {
		d.fail()
		return ""
	}
	d.i = end
	return s
}

// unescape decodes a string's escapes, if it is valid UTF-8 with no
// control characters and no \u escape of a surrogate.
func unescape(s []byte) (string, bool) {
	if !utf8.Valid(s) {
		return "", false
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 {
			return "", false
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i++; i >= len(s) {
			return "", false
		}
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+5 > len(s) {
				return "", false
			}
			v, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 16)
			if err != nil || utf16.IsSurrogate(rune(v)) {
				return "", false
			}
			out = utf8.AppendRune(out, rune(v))
			i += 4
		default:
			return "", false
		}
	}
	return string(out), true
}

// integer reads a plain integer (no fraction, no exponent, no leading
// zeros) that fits in 53 bits; anything else is not sure.
func (d *recDecoder) integer() int64 {
	if d.bad {
		return 0
	}
	d.ws()
	start := d.i
	j := d.i
	if j < len(d.b) && d.b[j] == '-' {
		j++
	}
	digits := j
	for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
		j++
	}
	n := j - digits
	if n == 0 || n > 15 || (n > 1 && d.b[digits] == '0') {
		d.fail()
		return 0
	}
	if j < len(d.b) {
		switch d.b[j] {
		case '.', 'e', 'E':
			d.fail()
			return 0
		}
	}
	v, err := strconv.ParseInt(string(d.b[start:j]), 10, 64)
	if err != nil {
		d.fail()
		return 0
	}
	d.i = j
	return v
}

func (d *recDecoder) boolean() bool {
	if d.bad {
		return false
	}
	d.ws()
	switch {
	case len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "true":
		d.i += 4
		return true
	case len(d.b)-d.i >= 5 && string(d.b[d.i:d.i+5]) == "false":
		d.i += 5
		return false
	}
	d.fail()
	return false
}

// time reads a timestamp with time.Time's own UnmarshalJSON, as
// jsoncodec does; escapes are not sure.
func (d *recDecoder) time(t *time.Time) {
	if d.bad || d.null() {
		return
	}
	start := d.i
	if _, ok := d.rawString(); !ok {
		d.fail()
		return
	}
	if t.UnmarshalJSON(d.b[start:d.i]) != nil {
		d.fail()
	}
}

func (d *recDecoder) timePtr() *time.Time {
	if d.bad || d.null() {
		return nil
	}
	t := new(time.Time)
	d.time(t)
	return t
}

// skip passes over one value, checking only its outline: the value is
// then decoded by jsoncodec, which checks it whole.
func (d *recDecoder) skip() {
	if d.bad {
		return
	}
	d.ws()
	depth := 0
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch c {
		case '"':
			j := d.i + 1
			for j < len(d.b) && d.b[j] != '"' {
				if d.b[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(d.b) {
				d.fail()
				return
			}
			d.i = j + 1
		case '{', '[':
			depth++
			d.i++
		case '}', ']':
			if depth == 0 {
				return
			}
			depth--
			d.i++
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return
			}
			d.i++
		default:
			d.i++
		}
		if depth == 0 && (c == '"' || c == '}' || c == ']') {
			return
		}
	}
	if depth != 0 {
		d.fail()
	}
}

func (d *recDecoder) record(r *archive.Record) {
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "header":
			d.once(&seen, 0)
			d.header(&r.Header)
		case "controller":
			d.once(&seen, 1)
			r.Controller = d.code()
		case "status":
			d.once(&seen, 2)
			r.Status = archive.Status(d.code())
		case "sha256":
			d.once(&seen, 3)
			r.SHA256 = d.str()
		case "size":
			d.once(&seen, 4)
			if !d.null() {
				r.Size = d.integer()
			}
		case "receivedAt":
			d.once(&seen, 5)
			d.time(&r.ReceivedAt)
		case "submitter":
			d.once(&seen, 6)
			d.caller(&r.Submitter)
		case "signatures":
			d.once(&seen, 7)
			if !d.null() {
				r.Signatures = []archive.SignatureSummary{}
				d.array(func() {
					r.Signatures = append(r.Signatures, archive.SignatureSummary{})
					d.signatureSummary(&r.Signatures[len(r.Signatures)-1])
				})
			}
		case "displayMediaType":
			d.once(&seen, 8)
			r.DisplayType = d.code()
		case "hasStructured":
			d.once(&seen, 9)
			if !d.null() {
				r.HasStructured = d.boolean()
			}
		case "socialServices":
			d.once(&seen, 10)
			if !d.null() {
				r.SocialServices = []string{}
				d.array(func() { r.SocialServices = append(r.SocialServices, d.code()) })
			}
		case "caseWorkers":
			d.once(&seen, 11)
			if !d.null() {
				r.CaseWorkers = []archive.CaseWorker{}
				d.array(func() {
					r.CaseWorkers = append(r.CaseWorkers, archive.CaseWorker{})
					d.caseWorker(&r.CaseWorkers[len(r.CaseWorkers)-1])
				})
			}
		case "source":
			// The sender's metadata, rare and varied: jsoncodec decodes it.
			d.once(&seen, 12)
			if d.null() {
				break
			}
			start := d.i
			d.skip()
			if d.bad {
				break
			}
			s := new(archive.SourceMetadata)
			if jsoncodec.Unmarshal(d.b[start:d.i], s) != nil {
				d.fail()
				break
			}
			r.Source = s
		default:
			// "nullification" too: stored in its own table, never in the
			// record the archive writes.
			return false
		}
		return true
	})
}

func (d *recDecoder) header(h *cda.Header) {
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			d.once(&seen, 0)
			h.ID = d.str()
		case "setId":
			d.once(&seen, 1)
			h.SetID = d.str()
		case "version":
			d.once(&seen, 2)
			if !d.null() {
				h.Version = int(d.integer())
			}
		case "generalType":
			d.once(&seen, 3)
			d.codeValue(&h.GeneralType)
		case "effectiveTime":
			d.once(&seen, 4)
			d.time(&h.EffectiveTime)
		case "creationTime":
			d.once(&seen, 5)
			d.time(&h.CreationTime)
		case "confidentiality":
			d.once(&seen, 6)
			d.codeValue(&h.Confidentiality)
		case "language":
			d.once(&seen, 7)
			h.Language = d.code()
		case "client":
			d.once(&seen, 8)
			d.client(&h.Client)
		case "author":
			d.once(&seen, 9)
			d.author(&h.Author)
		case "custodian":
			d.once(&seen, 10)
			d.organisation(&h.Custodian)
		case "guardianDisclosure":
			d.once(&seen, 11)
			d.codeValue(&h.GuardianDisclosure)
		case "replaces":
			d.once(&seen, 12)
			if !d.null() {
				h.Replaces = new(cda.Parent)
				d.parent(h.Replaces)
			}
		case "case":
			d.once(&seen, 13)
			d.caseValue(&h.Case)
		case "documentGroup":
			d.once(&seen, 14)
			d.codeValue(&h.DocumentGroup)
		case "specificType":
			d.once(&seen, 15)
			d.codeValue(&h.SpecificType)
		case "displayFormat":
			d.once(&seen, 16)
			d.codeValue(&h.DisplayFormat)
		case "structuredFormat":
			d.once(&seen, 17)
			d.codeValue(&h.StructuredFormat)
		case "software":
			d.once(&seen, 18)
			d.software(&h.Software)
		case "recordStatus":
			d.once(&seen, 19)
			d.codeValue(&h.RecordStatus)
		case "serviceTask":
			d.once(&seen, 20)
			d.codeValue(&h.ServiceTask)
		case "register":
			d.once(&seen, 21)
			d.codeValue(&h.Register)
		case "organiser":
			d.once(&seen, 22)
			d.organisation(&h.Organiser)
		case "retentionClass":
			d.once(&seen, 23)
			d.codeValue(&h.RetentionClass)
		case "specialContent":
			d.once(&seen, 24)
			d.codeValue(&h.SpecialContent)
		case "contentSpecification":
			d.once(&seen, 25)
			h.ContentSpecification = d.code()
		case "clientRelationshipId":
			d.once(&seen, 26)
			h.ClientRelationshipID = d.str()
		case "serviceProcess":
			d.once(&seen, 27)
			if !d.null() {
				h.ServiceProcess = new(cda.ServiceProcess)
				d.serviceProcess(h.ServiceProcess)
			}
		case "hideReason":
			d.once(&seen, 28)
			d.codeValue(&h.HideReason)
		case "hideReasonText":
			d.once(&seen, 29)
			h.HideReasonText = d.str()
		case "citizenRelease":
			d.once(&seen, 30)
			h.CitizenRelease = d.timePtr()
		case "replacementReason":
			d.once(&seen, 31)
			d.codeValue(&h.ReplacementReason)
		case "signers":
			d.once(&seen, 32)
			if !d.null() {
				h.Signers = []cda.SignerInfo{}
				d.array(func() {
					h.Signers = append(h.Signers, cda.SignerInfo{})
					d.signer(&h.Signers[len(h.Signers)-1])
				})
			}
		case "signatures":
			d.once(&seen, 33)
			if !d.null() {
				h.Signatures = []cda.SignatureEntry{}
				d.array(func() {
					h.Signatures = append(h.Signatures, cda.SignatureEntry{})
					d.signatureEntry(&h.Signatures[len(h.Signatures)-1])
				})
			}
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) codeValue(c *cda.Code) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "code":
			d.once(&seen, 0)
			c.Code = d.code()
		case "system":
			d.once(&seen, 1)
			c.System = d.code()
		case "systemName":
			d.once(&seen, 2)
			c.SystemName = d.code()
		case "display":
			d.once(&seen, 3)
			c.Display = d.code()
		case "nullFlavor":
			d.once(&seen, 4)
			c.NullFlavor = d.code()
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) organisation(o *cda.Organisation) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "oid":
			d.once(&seen, 0)
			o.OID = d.code()
		case "name":
			d.once(&seen, 1)
			o.Name = d.code()
		default:
			return false
		}
		return true
	})
}

// The client's and professionals' identifiers and names are not kept
// beyond the record: str, not code.

func (d *recDecoder) id(v *cda.ID) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "root":
			d.once(&seen, 0)
			v.Root = d.code()
		case "extension":
			d.once(&seen, 1)
			v.Extension = d.str()
		case "nullFlavor":
			d.once(&seen, 2)
			v.NullFlavor = d.code()
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) name(n *cda.Name) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "given":
			d.once(&seen, 0)
			if !d.null() {
				n.Given = []string{}
				d.array(func() { n.Given = append(n.Given, d.str()) })
			}
		case "callName":
			d.once(&seen, 1)
			n.CallName = d.str()
		case "family":
			d.once(&seen, 2)
			n.Family = d.str()
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) client(c *cda.Client) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			d.once(&seen, 0)
			d.id(&c.ID)
		case "name":
			d.once(&seen, 1)
			d.name(&c.Name)
		case "gender":
			d.once(&seen, 2)
			d.codeValue(&c.Gender)
		case "birthTime":
			d.once(&seen, 3)
			c.BirthTime = d.str()
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) author(a *cda.Author) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			d.once(&seen, 0)
			d.id(&a.ID)
		case "name":
			d.once(&seen, 1)
			d.name(&a.Name)
		case "time":
			d.once(&seen, 2)
			a.Time = d.str()
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) parent(p *cda.Parent) {
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			d.once(&seen, 0)
			p.ID = d.str()
		case "setId":
			d.once(&seen, 1)
			p.SetID = d.str()
		case "version":
			d.once(&seen, 2)
			if !d.null() {
				p.Version = int(d.integer())
			}
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) caseValue(c *cda.Case) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			d.once(&seen, 0)
			c.ID = d.str()
		case "opened":
			d.once(&seen, 1)
			c.Opened = d.timePtr()
		case "closed":
			d.once(&seen, 2)
			c.Closed = d.timePtr()
		case "serviceUnit":
			d.once(&seen, 3)
			d.organisation(&c.ServiceUnit)
		case "responsible":
			d.once(&seen, 4)
			d.organisation(&c.Responsible)
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) software(s *cda.Software) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "moderator":
			d.once(&seen, 0)
			s.Moderator = d.code()
		case "product":
			d.once(&seen, 1)
			s.Product = d.code()
		case "version":
			d.once(&seen, 2)
			s.Version = d.code()
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) serviceProcess(p *cda.ServiceProcess) {
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "type":
			d.once(&seen, 0)
			p.Type = d.code()
		case "code":
			d.once(&seen, 1)
			d.codeValue(&p.Code)
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) signer(s *cda.SignerInfo) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "registrationNumber":
			d.once(&seen, 0)
			s.RegistrationNumber = d.str()
		case "name":
			d.once(&seen, 1)
			d.name(&s.Name)
		case "authMethod":
			d.once(&seen, 2)
			d.codeValue(&s.AuthMethod)
		case "time":
			d.once(&seen, 3)
			s.Time = d.str()
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) signatureEntry(s *cda.SignatureEntry) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			d.once(&seen, 0)
			s.ID = d.code()
		case "type":
			d.once(&seen, 1)
			d.codeValue(&s.Type)
		case "timestampId":
			d.once(&seen, 2)
			s.TimestampID = d.code()
		case "timestamp":
			d.once(&seen, 3)
			d.time(&s.Timestamp)
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) caller(c *archive.Caller) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "system":
			d.once(&seen, 0)
			c.System = d.code()
		case "organisation":
			d.once(&seen, 1)
			c.Organisation = d.code()
		case "person":
			d.once(&seen, 2)
			c.Person = d.str()
		case "personName":
			d.once(&seen, 3)
			c.PersonName = d.str()
		case "unit":
			d.once(&seen, 4)
			c.Unit = d.code()
		case "purpose":
			d.once(&seen, 5)
			c.Purpose = d.code()
		case "actingFor":
			d.once(&seen, 6)
			c.ActingFor = d.str()
		case "justification":
			d.once(&seen, 7)
			c.Justification = d.code()
		case "justificationText":
			d.once(&seen, 8)
			c.JustificationText = d.str()
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) signatureSummary(s *archive.SignatureSummary) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "index":
			d.once(&seen, 0)
			if !d.null() {
				s.Index = int(d.integer())
			}
		case "id":
			d.once(&seen, 1)
			s.ID = d.code()
		case "type":
			d.once(&seen, 2)
			s.Type = d.code()
		case "timestamp":
			d.once(&seen, 3)
			d.time(&s.Timestamp)
		case "algorithm":
			d.once(&seen, 4)
			s.Algorithm = d.code()
		case "form":
			d.once(&seen, 5)
			s.Form = d.code()
		case "signerId":
			d.once(&seen, 6)
			s.SignerID = d.str()
		case "signerName":
			d.once(&seen, 7)
			s.SignerName = d.str()
		case "certSha256":
			d.once(&seen, 8)
			s.CertSHA256 = d.code()
		default:
			return false
		}
		return true
	})
}

func (d *recDecoder) caseWorker(w *archive.CaseWorker) {
	if d.null() {
		return
	}
	var seen uint64
	d.object(func(k []byte) bool {
		switch string(k) {
		case "name":
			d.once(&seen, 0)
			w.Name = d.str()
		case "title":
			d.once(&seen, 1)
			w.Title = d.code()
		case "unit":
			d.once(&seen, 2)
			w.Unit = d.code()
		default:
			return false
		}
		return true
	})
}

// The interned strings: a fixed table, each slot holding the last string
// that hashed to it, so that memory stays bounded (internSlots strings of
// at most internMax bytes) and readers never wait for each other.
const (
	internSlots = 4096
	internMax   = 128
)

var (
	internSeed  = maphash.MakeSeed()
	internTable [internSlots]atomic.Pointer[string]
)

// intern returns s as a string, the one kept if s was seen before.
func intern(s []byte) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > internMax {
		return string(s)
	}
	slot := &internTable[maphash.Bytes(internSeed, s)&(internSlots-1)]
	if p := slot.Load(); p != nil && *p == string(s) {
		return *p
	}
	v := string(s)
	slot.Store(&v)
	return v
}
