package fhirapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/jsoncodec"
)

// TestEncodeStamped holds the one-encoding path to what stamp and a second
// encoding give: the same bytes and the same version, for DocumentReferences
// with and without a sender's metadata, nullified, with escaped characters
// and with a string that looks like the versionId field.
func TestEncodeStamped(t *testing.T) {
	s := &Server{cfg: Config{BaseURL: "https://arkisto.example/fhir"}}
	versions := map[string]bool{}
	for i, rec := range encodeCorpus(t, 12) {
		want, err := json.Marshal(s.docRef(rec)) // encoding/json, not the codec under test
		if err != nil {
			t.Fatal(err)
		}
		d := s.docRefOf(rec)
		got, err := encodeStamped(d)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("record %d: encodeStamped gives\n%s\nstamp and Marshal give\n%s", i, got, want)
		}
		if d.Meta.VersionID != s.docRef(rec).Meta.VersionID || len(d.Meta.VersionID) != 16 || d.Meta.VersionID == versionSlot {
			t.Errorf("record %d: versionId %q, stamp gives %q", i, d.Meta.VersionID, s.docRef(rec).Meta.VersionID)
		}
		versions[d.Meta.VersionID] = true
	}
	if len(versions) != 12 {
		t.Errorf("12 different DocumentReferences have %d versions", len(versions))
	}
}

// twoMetas has a second versionId key after meta's.
type twoMetas struct {
	Meta  *Meta `json:"meta"`
	Other *Meta `json:"other"`
}

func (m *twoMetas) metaOf() *Meta { return m.Meta }

func TestEncodeStampedAmbiguous(t *testing.T) {
	mk := func() *twoMetas {
		return &twoMetas{Meta: resourceMeta(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), Other: &Meta{VersionID: "abc"}}
	}
	want, err := jsoncodec.Marshal(stamp(mk()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := encodeStamped(mk())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encodeStamped gives\n%s\nwant\n%s", got, want)
	}
	// Meta with nothing but the versionId: the field has no comma after it.
	only := &twoMetas{Meta: &Meta{}}
	got, err = encodeStamped(only)
	if err != nil {
		t.Fatal(err)
	}
	ver := only.Meta.VersionID
	want, _ = jsoncodec.Marshal(stamp(&twoMetas{Meta: &Meta{}}))
	if !bytes.Equal(got, want) || ver == versionSlot {
		t.Errorf("meta with the versionId alone: encodeStamped gives %s, want %s", got, want)
	}
}

// rawFirst encodes raw JSON before meta: encodeStamped cannot know which
// versionId key is meta's, and stamps and encodes again.
type rawFirst struct {
	Raw  json.RawMessage `json:"raw"`
	Meta *Meta           `json:"meta"`
}

func (m *rawFirst) metaOf() *Meta { return m.Meta }

func TestEncodeStampedRawBeforeMeta(t *testing.T) {
	mk := func() *rawFirst {
		return &rawFirst{Raw: json.RawMessage(`{"versionId":"` + versionSlot + `"}`), Meta: resourceMeta(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	}
	if metaFirst(reflect.TypeOf(mk())) || !metaFirst(reflect.TypeOf(&DocumentReference{})) {
		t.Fatal("metaFirst is wrong about rawFirst or DocumentReference")
	}
	want, err := jsoncodec.Marshal(stamp(mk()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := encodeStamped(mk())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encodeStamped gives\n%s\nwant\n%s", got, want)
	}
}
