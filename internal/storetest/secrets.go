package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
)

// TestSecrets checks a backend's archive.Secrets: two stores opened
// separately on one archive (two servers) get the same secret, also when
// both ask first at once; another name is another secret.
func TestSecrets(t *testing.T, b Backend) {
	ctx := context.Background()
	one, two := b.OpenTwo(t)
	s1, ok1 := one.(archive.Secrets)
	s2, ok2 := two.(archive.Secrets)
	if !ok1 || !ok2 {
		t.Fatalf("%s keeps no secrets", b.Name)
	}
	var got [2][]byte
	var errs [2]error
	var wg sync.WaitGroup
	for i, s := range []archive.Secrets{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = s.Secret(ctx, "test-key", 32)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i+1, err)
		}
	}
	if len(got[0]) != 32 || !bytes.Equal(got[0], got[1]) {
		t.Fatalf("two servers got different secrets: %x, %x", got[0], got[1])
	}
	if bytes.Equal(got[0], make([]byte, 32)) {
		t.Fatal("the secret is all zeros")
	}
	again, err := s2.Secret(ctx, "test-key", 32)
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Fatalf("asked again: %x, %v", again, err)
	}
	other, err := s1.Secret(ctx, "other-key", 32)
	if err != nil || bytes.Equal(other, got[0]) {
		t.Fatalf("another name gave the same secret (%v)", err)
	}
}
