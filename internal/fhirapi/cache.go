package fhirapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
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

// writeRead answers a read of a resource with ETag (W/"<versionId>") and
// Last-Modified, or 304 Not Modified when the request's If-None-Match
// names the version, or, without If-None-Match, when If-Modified-Since is
// not before lastUpdated (RFC 9110 13.1.2, 13.1.3; FHIR R4
// http.html#cread). The domain has logged the read before this: a 304
// discloses nothing new to the caller, but it is a use of the record and
// stays in the log as a read.
func (s *Server) writeRead(w http.ResponseWriter, r *http.Request, v versioned, lastUpdated time.Time) {
	m := v.metaOf()
	etag := `W/"` + m.VersionID + `"`
	if notModified(r, etag, lastUpdated) {
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Last-Modified", lastUpdated.UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", lastUpdated.UTC().Format(http.TimeFormat))
	writeJSON(w, http.StatusOK, v)
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
