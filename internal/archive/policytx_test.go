package archive

import (
	"context"
	"errors"
	"testing"
)

// orgCounter answers Organisation from a map and counts the questions;
// the rest of PolicyTx is not used by onceOrgTx.
type orgCounter struct {
	PolicyTx
	orgs  map[string]*Organisation
	asked map[string]int
	fail  bool
}

func (t *orgCounter) Organisation(_ context.Context, oid string) (*Organisation, error) {
	t.asked[oid]++
	if t.fail {
		return nil, errors.New("store unavailable")
	}
	if o, ok := t.orgs[oid]; ok {
		return o, nil
	}
	return nil, ErrNotFound
}

func TestOnceOrgTx(t *testing.T) {
	ctx := context.Background()
	a, b := &Organisation{OID: "1.2.246.10.1"}, &Organisation{OID: "1.2.246.10.2"}
	inner := &orgCounter{orgs: map[string]*Organisation{a.OID: a, b.OID: b}, asked: map[string]int{}}
	tx := &onceOrgTx{PolicyTx: inner}
	for i, tt := range []struct {
		oid   string
		want  *Organisation
		asked int // of the store, for this oid, after the call
	}{
		{a.OID, a, 1},
		{a.OID, a, 1},            // the first answer
		{b.OID, b, 1},            // another organisation is asked
		{"1.2.246.10.3", nil, 1}, // not found is not kept
		{"1.2.246.10.3", nil, 2},
	} {
		got, err := tx.Organisation(ctx, tt.oid)
		if got != tt.want || (tt.want == nil) != errors.Is(err, ErrNotFound) || inner.asked[tt.oid] != tt.asked {
			t.Errorf("%d: Organisation(%s) = %v, %v, store asked %d times; want %v, asked %d", i, tt.oid, got, err, inner.asked[tt.oid], tt.want, tt.asked)
		}
	}
	inner.fail = true
	tx = &onceOrgTx{PolicyTx: inner}
	for range 2 {
		if _, err := tx.Organisation(ctx, a.OID); err == nil {
			t.Error("a store error became an answer")
		}
	}
	if inner.asked[a.OID] != 3 {
		t.Errorf("after two failures the store was asked %d times for %s, want 3", inner.asked[a.OID], a.OID)
	}
}
