package storetest

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
)

func ledgers(t *testing.T, b Backend) (archive.TokenLedger, archive.TokenLedger) {
	t.Helper()
	a, c := b.OpenTwo(t)
	la, ok := a.(archive.TokenLedger)
	if !ok {
		t.Fatalf("%s keeps no token ledger", b.Name)
	}
	lc, ok := c.(archive.TokenLedger)
	if !ok {
		t.Fatalf("%s keeps no token ledger", b.Name)
	}
	return la, lc
}

func newKey(t *testing.T) []byte {
	k := make([]byte, 16)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestTokenLedger checks a backend's archive.TokenLedger: two stores opened
// separately on one archive, as two servers behind a load balancer, each
// refuse a token the other has used; of concurrent uses of one token
// through both exactly one is new; and expired keys are forgotten. Each
// backend runs it from its own tests.
func TestTokenLedger(t *testing.T, b Backend) {
	ctx := context.Background()
	one, two := ledgers(t, b)
	exp := time.Now().Add(10 * time.Minute)
	use := func(l archive.TokenLedger, key []byte, exp time.Time) bool {
		t.Helper()
		fresh, err := l.UseToken(ctx, key, exp)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}

	k := newKey(t)
	if !use(one, k, exp) {
		t.Fatal("a new token was taken for a replay")
	}
	if use(two, k, exp) {
		t.Error("the second store accepted a token the first had used")
	}
	if use(one, k, exp) {
		t.Error("the first store accepted its own token twice")
	}
	k2 := newKey(t)
	if !use(two, k2, exp) || use(one, k2, exp) {
		t.Error("the first store accepted a token the second had used")
	}

	// Concurrent uses of one token through both stores: one wins.
	k3 := newKey(t)
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := one
			if i%2 == 1 {
				l = two
			}
			ok, err := l.UseToken(ctx, k3, exp)
			if err != nil {
				t.Error(err)
			}
			if ok {
				fresh.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := fresh.Load(); n != 1 {
		t.Errorf("%d of 16 concurrent uses of one token were new, want 1", n)
	}

	// A key past its expiry is forgotten once enough new uses have
	// gone by (the purge is bounded and runs now and then).
	old := newKey(t)
	if !use(one, old, time.Now().Add(-time.Minute)) {
		t.Fatal("a new token was taken for a replay")
	}
	for range 200 {
		use(one, newKey(t), exp)
	}
	if !use(two, old, exp) {
		t.Error("an expired key was never forgotten")
	}
	if use(one, k, exp) {
		t.Error("a key that has not expired was forgotten")
	}
}
