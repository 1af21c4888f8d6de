package fhirapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/jsoncodec"
)

// versioned is a resource with meta.
type versioned interface{ metaOf() *Meta }

func (d *DocumentReference) metaOf() *Meta { return d.Meta }
func (p *Patient) metaOf() *Meta           { return p.Meta }
func (c *Consent) metaOf() *Meta           { return c.Meta }
func (a *AuditEvent) metaOf() *Meta        { return a.Meta }
func (b *Binary) metaOf() *Meta            { return b.Meta }

// resourceMeta is meta with lastUpdated; stamp adds the versionId.
func resourceMeta(updated time.Time) *Meta {
	return &Meta{LastUpdated: instant(updated.UTC())}
}

// stamp sets meta.versionId: the first 64 bits of the SHA-256 of the
// resource as served, in hex. The archive keeps no version counter of
// its metadata; a version id that is the content's own changes exactly
// when the resource does (status, custodian after a register transfer,
// nullification), the same on every server, which is what ETag and
// If-None-Match need (FHIR R4 http.html#versioning, resource.html#Meta).
// It is not an _history version: the archive has no vread.
func stamp[T versioned](v T) T {
	m := v.metaOf()
	if m == nil {
		return v
	}
	m.VersionID = ""
	b, err := jsoncodec.Marshal(v)
	if err != nil {
		return v
	}
	sum := sha256.Sum256(b)
	m.VersionID = hex.EncodeToString(sum[:8])
	return v
}

// versionSlot holds meta.versionId's place while encodeStamped encodes: as
// long as the versionId, and nothing JSON escapes.
const versionSlot = "0000000000000000"

var versionSlotField = []byte(`"versionId":"` + versionSlot + `"`)

// encodeStamped is jsoncodec.Marshal(stamp(v)) in one encoding instead of
// two: v is encoded with a placeholder versionId, the SHA-256 is taken of
// the bytes without that field (exactly what stamp encodes and hashes) and
// the placeholder is overwritten with the version in place. It leaves v
// stamped. The field is the first `"versionId":` in the bytes when only
// string fields come before meta (metaFirst): a quote inside a string is
// escaped, so those bytes can only be meta's key. Otherwise stamp and a
// second encoding answer.
func encodeStamped(v versioned) ([]byte, error) {
	m := v.metaOf()
	if m == nil || !metaFirst(reflect.TypeOf(v)) {
		return jsoncodec.Marshal(stamp(v))
	}
	m.VersionID = versionSlot
	b, err := jsoncodec.Marshal(v)
	if err != nil {
		return nil, err
	}
	i := bytes.Index(b, versionSlotField)
	if i < 0 {
		return jsoncodec.Marshal(stamp(v))
	}
	j := i + len(versionSlotField)
	if j < len(b) && b[j] == ',' {
		j++ // the comma before the next field of meta goes with the field
	}
	h := sha256.New()
	h.Write(b[:i])
	h.Write(b[j:])
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	at := i + len(versionSlotField) - 1 - len(versionSlot)
	slot := b[at : at+len(versionSlot)]
	hex.Encode(slot, sum[:8])
	m.VersionID = string(slot)
	return b, nil
}

var metaFirstOf sync.Map // reflect.Type → bool

// metaFirst says whether t, a pointer to a resource struct, encodes only
// plain string fields before its meta field, a *Meta.
func metaFirst(t reflect.Type) bool {
	if ok, known := metaFirstOf.Load(t); known {
		return ok.(bool)
	}
	ok := false
	if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		st := t.Elem()
		for i := range st.NumField() {
			f := st.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type == reflect.TypeFor[*Meta]() && name == "meta" {
				ok = true
				break
			}
			if f.Anonymous || f.Type != reflect.TypeFor[string]() || name == "-" {
				break // not a plain string: it might encode anything
			}
		}
	}
	metaFirstOf.Store(t, ok)
	return ok
}

// writeRead answers a read of a resource with ETag (W/"<versionId>") and
// Last-Modified, or 304 Not Modified when the request's If-None-Match
// names the version, or, without If-None-Match, when If-Modified-Since is
// not before lastUpdated (RFC 9110 13.1.2, 13.1.3; FHIR R4
// http.html#cread). The domain has logged the read before this: a 304
// discloses nothing new to the caller, but it is a use of the record and
// stays in the log as a read.
func (s *Server) writeRead(w http.ResponseWriter, r *http.Request, v versioned, lastUpdated time.Time) {
	s.writeReadWith(w, r, v.metaOf().VersionID, lastUpdated, func() ([]byte, error) { return jsoncodec.Marshal(v) })
}

// writeStamped is writeRead for a resource not yet stamped: it is stamped
// and encoded in one encoding (encodeStamped).
func (s *Server) writeStamped(w http.ResponseWriter, r *http.Request, v versioned, lastUpdated time.Time) {
	b, err := encodeStamped(v)
	if err != nil {
		http.Error(w, "cannot encode the response", http.StatusInternalServerError)
		return
	}
	s.writeReadWith(w, r, v.metaOf().VersionID, lastUpdated, func() ([]byte, error) { return b, nil })
}

// writeReadWith is writeRead of the version whose body encode returns,
// called only when the body is sent.
func (s *Server) writeReadWith(w http.ResponseWriter, r *http.Request, version string, lastUpdated time.Time, encode func() ([]byte, error)) {
	etag := `W/"` + version + `"`
	if notModified(r, etag, lastUpdated) {
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Last-Modified", lastUpdated.UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", lastUpdated.UTC().Format(http.TimeFormat))
	b, err := encode()
	if err != nil {
		http.Error(w, "cannot encode the response", http.StatusInternalServerError)
		return
	}
	writeEncoded(w, http.StatusOK, b)
}

// notModified evaluates If-None-Match (weak comparison) and, when there is
// none, If-Modified-Since, against the current version.
func notModified(r *http.Request, etag string, lastUpdated time.Time) bool {
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 {
		weak := strings.TrimPrefix(etag, "W/")
		for _, h := range inm {
			for _, t := range strings.Split(h, ",") {
				t = strings.TrimSpace(t)
				if t == "*" || strings.TrimPrefix(t, "W/") == weak {
					return true
				}
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		// HTTP dates have whole seconds: a change within the second of
		// the date is not before it.
		return err == nil && !lastUpdated.Truncate(time.Second).After(t)
	}
	return false
}

// isNotFound reports whether err is the domain's not-found.
func isNotFound(err error) bool { return errors.Is(err, archive.ErrNotFound) }
