package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/demo"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
)

// TestNoWayToRunWithoutAccessLog: neither the service's configuration nor
// any command of the shipped binary can turn the access log off, and the
// shipped binary has no benchmark server (cmd/arkisto-bench has it, with
// its own test of this name).
func TestNoWayToRunWithoutAccessLog(t *testing.T) {
	ct := reflect.TypeOf(archive.Config{})
	for i := range ct.NumField() {
		if f := ct.Field(i); strings.Contains(strings.ToLower(f.Name), "log") {
			t.Errorf("archive.Config has a field %s", f.Name)
		}
	}
	code, _, errs := run(t, "serve", "--without-access-log")
	if code == 0 || !strings.Contains(errs, "unknown flag: --without-access-log") {
		t.Errorf("serve: exit %d, %q; want unknown flag", code, errs)
	}
	code, _, errs = run(t, "bench", "server")
	if code == 0 || !strings.Contains(errs, `unknown command "bench"`) {
		t.Errorf("bench server: exit %d, %q; want an unknown command", code, errs)
	}
}

// TestLogLevelDefault: --help tells the default log level the commands
// use (issue 17: it said warn while serve and demo logged at info).
func TestLogLevelDefault(t *testing.T) {
	for cmd, want := range map[string]string{"serve": "info", "demo": "info", "archive": "warn", "init": "warn", "validate": "warn"} {
		if got := defaultLogLevel(cmd); got != want {
			t.Errorf("default log level of %s = %s, want %s", cmd, got, want)
		}
	}
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"demo", "--help"}} {
		code, out, errs := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errs)
		}
		if !strings.Contains(out, "--log-level string") || !strings.Contains(out, "(default: info for serve and demo, warn for the rest)") || strings.Contains(out, `(default "warn")`) {
			t.Errorf("%v does not say the log level defaults as they are:\n%s", args, out)
		}
	}
	// A bad level names the flag.
	if code, _, errs := run(t, "--log-level", "loud", "validate", "x.xml"); code == 0 || !strings.Contains(errs, "--log-level: must be debug, info, warn or error") {
		t.Errorf("--log-level loud: exit %d, %q", code, errs)
	}
}

// TestDemoIntro: the demo says "preparing" only when it makes its archive,
// and "reusing" when it opens the one it made before (issue 17).
func TestDemoIntro(t *testing.T) {
	dir := t.TempDir()
	if got := demoIntro(dir); !strings.HasPrefix(got, "preparing a new demo archive in "+dir) {
		t.Errorf("empty directory: %q", got)
	}
	d, err := demo.Open(context.Background(), dir, demo.Options{Documents: 4, Clients: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if got, want := demoIntro(dir), "reusing the demo archive in "+dir; got != want {
		t.Errorf("after the demo was made: %q, want %q", got, want)
	}
}

// TestJSONOutputIsNotHTMLEscaped: --json output is for people and
// scripts: "<", ">" and "&" stay as they are, not \u003c (issue 17).
func TestJSONOutputIsNotHTMLEscaped(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(samples + "asiakkuusasiakirja_S.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc := bytes.Replace(raw, []byte(`displayName="Asiakkuusasiakirja"`), []byte(`displayName="Asiakkuus &amp; &lt;asiakirja&gt;"`), 1)
	f := filepath.Join(dir, "doc.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, errs := run(t, "--data", dir, "validate", "--json", f)
	if !strings.Contains(out, `"Asiakkuus & <asiakirja>"`) || strings.Contains(out, `\u00`) {
		t.Errorf("validate --json escapes for HTML:\n%s%s", out, errs)
	}
}

// TestServeMaxBodyIsASize: --max-body shows and takes a size (64 MiB), not
// a raw byte count (issue 17).
func TestServeMaxBodyIsASize(t *testing.T) {
	_, out, _ := run(t, "serve", "--help")
	if !strings.Contains(out, "(default 64 MiB)") || strings.Contains(out, "67108864") {
		t.Errorf("serve --help:\n%s", out)
	}
	var v sizeValue
	if err := v.Set("16MiB"); err != nil || v != 16<<20 || v.String() != "16 MiB" {
		t.Errorf("--max-body 16MiB: %d %v", v, err)
	}
	if err := v.Set("16 MB"); err == nil {
		t.Error("--max-body 16 MB was taken")
	}
}

// TestListJSON: list commands print, with --json, one JSON array of
// objects keyed by their column names, for scripts.
func TestListJSON(t *testing.T) {
	data := t.TempDir()
	mustInit(t, "--data", data)
	w, err := gen.NewPKI(gen.PKIOptions{KeyType: pki.P256, Organisations: 1, ProfessionalsPerOrg: 1})
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.CA.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, "--data", data, "admin", "trust", "add", "--ca", ca); code != 0 {
		t.Fatalf("trust add: %d %s%s", code, out, errs)
	}
	code, out, errs := run(t, "--data", data, "admin", "trust", "list", "--json")
	var anchors []map[string]string
	if err := json.Unmarshal([]byte(out), &anchors); err != nil || code != 0 {
		t.Fatalf("trust list --json: exit %d, %v\n%s%s", code, err, out, errs)
	}
	if len(anchors) != 1 || !strings.Contains(anchors[0]["subject"], w.CA.Cert.Subject.CommonName) ||
		anchors[0]["valid_until"] != w.CA.Cert.NotAfter.Format("2006-01-02") {
		t.Errorf("trust list --json: %v", anchors)
	}
	for _, args := range [][]string{{"org", "list"}, {"system", "list"}, {"archivist", "list"}} {
		code, out, errs := run(t, append([]string{"--data", data, "admin"}, append(args, "--json")...)...)
		var rows []map[string]string
		if err := json.Unmarshal([]byte(out), &rows); err != nil || code != 0 || len(rows) != 0 {
			t.Errorf("%v --json on an archive without any: exit %d, %v, %q%s", args, code, err, out, errs)
		}
	}

	var b bytes.Buffer
	tw := &tableWriter{out: &b, json: true}
	fmt.Fprintln(tw, "NAME\tVALID UNTIL\tBUSINESS ID")
	fmt.Fprintln(tw, "A & <B>\t2030-01-01\t-")
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "[\n  {\"name\": \"A & <B>\", \"valid_until\": \"2030-01-01\", \"business_id\": \"\"}\n]\n"; b.String() != want {
		t.Errorf("table as JSON:\n%s\nwant\n%s", b.String(), want)
	}
}
