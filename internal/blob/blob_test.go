package blob

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

// S3Spec returns the test S3 store spec from ARKISTO_TEST_S3_URL; without
// it the test is skipped, or fails in CI, where .ci/run starts an S3 server.
func s3Spec(t *testing.T) string {
	spec := os.Getenv("ARKISTO_TEST_S3_URL")
	if spec == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ARKISTO_TEST_S3_URL is not set; CI must run an S3 server")
		}
		t.Skip("set ARKISTO_TEST_S3_URL (and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) to test S3")
	}
	return spec
}

func behaviour(t *testing.T, s Store, corrupt func(sum string)) {
	ctx := context.Background()
	data := []byte("<ClinicalDocument>" + t.Name() + "</ClinicalDocument>")
	sum := Sum(data)
	if err := s.Put(ctx, sum, data); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, sum, data); err != nil {
		t.Fatalf("second put of the same content: %v", err)
	}
	got, err := s.Get(ctx, sum)
	if err != nil || string(got) != string(data) {
		t.Fatalf("get: %q %v", got, err)
	}
	if err := s.Put(ctx, Sum([]byte("other")), data); !errors.Is(err, ErrCorrupt) {
		t.Errorf("put under a wrong hash: %v", err)
	}
	missing := Sum([]byte("never stored " + t.Name()))
	if _, err := s.Get(ctx, missing); !errors.Is(err, ErrMissing) {
		t.Errorf("missing blob: %v", err)
	}
	for _, bad := range []string{"", "../../etc/passwd", strings.Repeat("g", 64), strings.ToUpper(sum)} {
		if _, err := s.Get(ctx, bad); err == nil {
			t.Errorf("Get(%q) succeeded", bad)
		}
	}
	if corrupt != nil {
		corrupt(sum)
		if _, err := s.Get(ctx, sum); !errors.Is(err, ErrCorrupt) {
			t.Errorf("corrupt blob: %v", err)
		}
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	f, err := OpenFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	behaviour(t, f, func(sum string) {
		p := filepath.Join(dir, sum[:2], sum[2:4], sum)
		if err := os.WriteFile(p, []byte("tampered"), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	left, _ := filepath.Glob(filepath.Join(dir, "*", "*", ".tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestOpenSpecs(t *testing.T) {
	ctx := context.Background()
	for _, spec := range []string{"", "db"} {
		if s, err := Open(ctx, spec); s != nil || err != nil {
			t.Errorf("Open(%q) = %v, %v; want the database", spec, s, err)
		}
	}
	dir := t.TempDir()
	for _, spec := range []string{"files:" + dir, "file://" + dir} {
		s, err := Open(ctx, spec)
		if err != nil || s.Name() != "files:"+dir {
			t.Errorf("Open(%q) = %v, %v", spec, s, err)
		}
	}
	for _, spec := range []string{"ftp://x", "s3://", "s3://bucket", "files:"} {
		if _, err := Open(ctx, spec); err == nil {
			t.Errorf("Open(%q) succeeded", spec)
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	if _, err := Open(ctx, "s3://b?endpoint=http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("S3 without credentials: %v", err)
	}
}

func TestS3(t *testing.T) {
	s, err := Open(context.Background(), s3Spec(t))
	if err != nil {
		t.Fatal(err)
	}
	s3 := s.(*S3)
	behaviour(t, s, func(sum string) {
		// Overwrite the object behind the store's back.
		_, err := s3.c.PutObject(context.Background(), s3.bucket, s3.key(sum), strings.NewReader("tampered"), 8, minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
	})
}
