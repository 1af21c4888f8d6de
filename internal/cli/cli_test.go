package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/arkisto/arkisto/internal/auth"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/demo"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/storetest"
)

const samples = "../../testdata/kanta/"

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

// mustInit creates an archive with `arkisto admin init` and the flags.
func mustInit(t *testing.T, flags ...string) {
	t.Helper()
	if code, out, errs := run(t, append(flags, "admin", "init")...); code != 0 || !strings.Contains(out, "created an empty archive") {
		t.Fatalf("admin init %v: exit %d %s%s", flags, code, out, errs)
	}
}

func TestValidateSamples(t *testing.T) {
	data := t.TempDir()
	for _, f := range []string{"asiakkuusasiakirja_S.xml", "asia_ja_rajoitukset_S.xml"} {
		code, out, errs := run(t, "--data", data, "validate", samples+f)
		if code != 0 {
			t.Fatalf("validate %s: exit %d\n%s%s", f, code, out, errs)
		}
		for _, want := range []string{"ACCEPTABLE", "cryptographically valid (whitespace-stripped form)", "chain not checked"} {
			if !strings.Contains(out, want) {
				t.Errorf("validate %s output lacks %q:\n%s", f, want, out)
			}
		}
		if strings.Contains(out, "200111A904P") || strings.Contains(out, "180418A903L") {
			t.Errorf("validate prints a whole identity code:\n%s", out)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "arkisto.db")); err == nil {
		t.Error("validate created an archive in the data directory")
	}
}

func TestValidateRefusesAndExplains(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(samples + "asia_ja_rajoitukset_S.xml")
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(raw, []byte(`<versionNumber value="1"/>`), []byte(`<versionNumber value="0"/>`), 1)
	// Tamper with the signed timestamp too.
	bad = bytes.Replace(bad, []byte("2026-03-23T08:50:35.5590148Z"), []byte("2026-03-23T08:50:36.5590148Z"), 1)
	f := filepath.Join(dir, "bad.xml")
	os.WriteFile(f, bad, 0o644)
	code, out, _ := run(t, "--data", dir, "validate", f)
	if code != 1 {
		t.Fatalf("exit %d for a bad document", code)
	}
	for _, want := range []string{"NOT ACCEPTABLE", cda.RuleVersion, "SIG_DIGEST_MISMATCH", "cryptographically INVALID"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, "--data", dir, "validate", "--json", f, samples+"asiakkuusasiakirja_S.xml")
	var res []map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 2 || code != 1 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if res[0]["acceptable"] != false || res[1]["acceptable"] != true {
		t.Errorf("--json verdicts %v %v", res[0]["acceptable"], res[1]["acceptable"])
	}
}

func TestValidateChainsToGivenCA(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, "gen", "--out", dir, "--count", "2", "--clients", "1", "--key", "p256")
	if code != 0 {
		t.Fatalf("gen: %d %s%s", code, out, errs)
	}
	doc := filepath.Join(dir, "docs", "0000", "00000001.xml")
	code, out, _ = run(t, "--data", dir, "validate", "--trust-ca", filepath.Join(dir, "pki", "ca.crt"), doc)
	if code != 0 || !strings.Contains(out, "chains to a trusted CA") {
		t.Fatalf("with the right CA: exit %d\n%s", code, out)
	}
	other, err := gen.NewPKI(gen.PKIOptions{Organisations: 1, ProfessionalsPerOrg: 1, KeyType: "p256"})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.CA.Save(filepath.Join(dir, "other")); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, "--data", dir, "validate", "--trust-ca", filepath.Join(dir, "other.crt"), doc)
	if code != 0 || !strings.Contains(out, "does NOT chain") {
		t.Fatalf("with another CA (crypto still valid, so exit 0): exit %d\n%s", code, out)
	}
}

func TestAdminAndArchive(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if code, out, errs := run(t, "gen", "--out", dir, "--count", "12", "--clients", "4", "--key", "p256", "--replace-every", "2"); code != 0 {
		t.Fatalf("gen: %s%s", out, errs)
	}
	world, err := gen.LoadPKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	mustInit(t, "--data", data)
	if code, out, errs := run(t, "--data", data, "admin", "trust", "add", "--ca", filepath.Join(dir, "pki", "ca.crt")); code != 0 || !strings.Contains(out, "added") {
		t.Fatalf("trust add: %s%s", out, errs)
	}
	if _, out, _ := run(t, "--data", data, "admin", "trust", "add", "--ca", filepath.Join(dir, "pki", "ca.crt")); !strings.Contains(out, "already trusted") {
		t.Errorf("second trust add: %s", out)
	}
	for i, o := range world.Organisations {
		if code, out, errs := run(t, "--data", data, "admin", "org", "add", "--oid", o.ControllerOID(), "--name", o.Name, "--kind", o.Kind); code != 0 {
			t.Fatalf("org add: %s%s", out, errs)
		}
		cert := filepath.Join(dir, "pki", "system-"+string(rune('1'+i))+".crt")
		if code, out, errs := run(t, "--data", data, "admin", "system", "add", "--org", o.ControllerOID(), "--name", o.SystemName, "--cert", cert); code != 0 {
			t.Fatalf("system add: %s%s", out, errs)
		}
	}
	_, out, _ := run(t, "--data", data, "admin", "system", "list")
	for _, o := range world.Organisations {
		if !strings.Contains(out, o.SystemName) {
			t.Errorf("system list lacks %s:\n%s", o.SystemName, out)
		}
	}
	org := world.Organisations[0]
	code, out, _ := run(t, "--data", data, "archive", "--system", org.SystemName, filepath.Join(dir, "docs"))
	if code != 1 || !strings.Contains(out, "has no register access right") {
		t.Fatalf("archive as one system of a mixed set: exit %d\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^[1-9][0-9]* archived, [1-9][0-9]* refused$`).MatchString(out) {
		t.Errorf("want some archived and some refused:\n%s", out)
	}
}

func TestAdminBadInput(t *testing.T) {
	data := t.TempDir()
	mustInit(t, "--data", data)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"admin", "org", "add", "--oid", "1.2.x", "--name", "n", "--kind", "public"}, "--oid"},
		{[]string{"admin", "org", "add", "--oid", "1.2.3", "--name", "", "--kind", "public"}, "--name"},
		{[]string{"admin", "org", "add", "--oid", "1.2.3", "--name", "n", "--kind", "municipal"}, "--kind"},
		{[]string{"admin", "system", "add", "--org", "1.2.3", "--name", "s", "--cert", samples + "SOURCE.md"}, "no certificate"},
		{[]string{"admin", "trust", "add"}, "--ca"},
		{[]string{"archive", "--system", "nope", samples + "asiakkuusasiakirja_S.xml"}, "no registered system"},
		{[]string{"--log-level", "loud", "admin", "trust", "list"}, "--log-level"},
	}
	for _, tt := range tests {
		code, out, errs := run(t, append([]string{"--data", data}, tt.args...)...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stderr %q (stdout %q), want exit 2 naming %s", tt.args, code, errs, out, tt.want)
		}
	}
	if code, _, errs := run(t, "gen", "--count", "1"); code != 2 || !strings.Contains(errs, "--out") {
		t.Errorf("gen without --out: exit %d, %q", code, errs)
	}
	// The system needs an onboarded organisation.
	dir := t.TempDir()
	run(t, "gen", "--out", dir, "--count", "1", "--key", "p256")
	code, _, errs := run(t, "--data", data, "admin", "system", "add", "--org", "1.2.246.10.1.10.0", "--name", "s", "--cert", filepath.Join(dir, "pki", "system-1.crt"))
	if code != 2 || !strings.Contains(errs, "not onboarded") {
		t.Errorf("system of an unknown organisation: %d %s", code, errs)
	}
}

func TestTokenAndBundle(t *testing.T) {
	dir := t.TempDir()
	world, err := gen.NewPKI(gen.PKIOptions{Organisations: 1, ProfessionalsPerOrg: 1, KeyType: "p256"})
	if err != nil {
		t.Fatal(err)
	}
	if err := world.Save(filepath.Join(dir, "pki")); err != nil {
		t.Fatal(err)
	}
	sys := world.Organisations[0]
	code, out, errs := run(t, "token", "--demo", dir, "--system", sys.SystemName)
	if code != 0 {
		t.Fatalf("token: %s%s", out, errs)
	}
	tok := strings.TrimSpace(out)
	v := auth.NewTokenVerifier(time.Now().Add(-time.Minute))
	c, err := v.Verify(context.Background(), tok, sys.SystemName, sys.System.Cert.PublicKey)
	if err != nil {
		t.Fatalf("the token does not verify with the system's certificate: %v", err)
	}
	if c.Exp-c.Iat != 300 || c.Purpose != "1" || c.Unit != sys.Units[1].OID {
		t.Errorf("claims %+v", c)
	}
	if code, _, errs := run(t, "token", "--demo", dir, "--system", "nope"); code != 2 || !strings.Contains(errs, sys.SystemName) {
		t.Errorf("unknown system: %d %s", code, errs)
	}
	if code, _, errs := run(t, "token", "--key", filepath.Join(dir, "pki", "system-1.key"), "--sub", "1"); code != 2 || !strings.Contains(errs, "--unit") {
		t.Errorf("--key without claims: %d %s", code, errs)
	}
	if code, _, errs := run(t, "token", "--system", sys.SystemName, "--demo", dir, "--ttl", "11m"); code != 2 || !strings.Contains(errs, "--ttl") {
		t.Errorf("--ttl 11m: %d %s", code, errs)
	}
	code, out, errs = run(t, "bundle", samples+"asia_ja_rajoitukset_S.xml")
	if code != 0 || !strings.Contains(out, `"type": "transaction"`) || !strings.Contains(out, "urn:oid:1.2.246.10.2012566.95.2026.688883.2655274") {
		t.Fatalf("bundle: %d %s %s", code, out[:min(len(out), 300)], errs)
	}
}

// TestBackupRestoreVerifyCommands archives generated documents into a
// SQLite archive with file blobs, backs it up, restores it into a second
// archive (PostgreSQL when the test database is configured) and verifies both.
func TestBackupRestoreVerifyCommands(t *testing.T) {
	dir := t.TempDir()
	src := []string{"--data", filepath.Join(dir, "src"), "--blobs", "files:" + filepath.Join(dir, "src-blobs")}
	if code, out, errs := run(t, append([]string{}, "gen", "--out", dir, "--count", "6", "--clients", "2", "--key", "p256")...); code != 0 {
		t.Fatalf("gen: %s%s", out, errs)
	}
	world, err := gen.LoadPKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	mustInit(t, src...)
	run(t, append(src, "admin", "trust", "add", "--ca", filepath.Join(dir, "pki", "ca.crt"))...)
	for i, o := range world.Organisations {
		run(t, append(src, "admin", "org", "add", "--oid", o.ControllerOID(), "--name", o.Name, "--kind", o.Kind)...)
		run(t, append(src, "admin", "system", "add", "--org", o.ControllerOID(), "--name", o.SystemName, "--cert", filepath.Join(dir, "pki", fmt.Sprintf("system-%d.crt", i+1)))...)
	}
	archived := 0
	for _, o := range world.Organisations {
		_, out, _ := run(t, append(src, "archive", "--system", o.SystemName, filepath.Join(dir, "docs"))...)
		var n int
		fmt.Sscanf(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:], "%d archived", &n)
		archived += n
	}
	if archived != 6 {
		t.Fatalf("%d documents archived, want 6", archived)
	}
	if code, out, errs := run(t, append(src, "admin", "verify")...); code != 0 || !strings.Contains(out, "6 documents") || !strings.Contains(out, "no problems") {
		t.Fatalf("verify: %d %s%s", code, out, errs)
	}
	bk := filepath.Join(dir, "backup")
	if code, out, errs := run(t, append(src, "admin", "backup", "--to", bk)...); code != 0 || !strings.Contains(out, "6 documents") {
		t.Fatalf("backup: %d %s%s", code, out, errs)
	}
	dst := []string{"--data", filepath.Join(dir, "dst")}
	if u := os.Getenv(storetest.EnvDatabaseURL); u != "" {
		dst = []string{"--database", storetest.PostgresURL(t, u)}
	}
	if code, _, errs := run(t, append(dst, "admin", "restore", "--from", bk)...); code != 2 || !strings.Contains(errs, "no archive") {
		t.Errorf("restore into no archive: exit %d %s", code, errs)
	}
	mustInit(t, dst...)
	if code, out, errs := run(t, append(dst, "admin", "restore", "--from", bk)...); code != 0 || !strings.Contains(out, "restored 6 documents") {
		t.Fatalf("restore: %d %s%s", code, out, errs)
	}
	if code, out, errs := run(t, append(dst, "admin", "verify", "--json")...); code != 0 || !strings.Contains(out, `"documents": 6`) {
		t.Fatalf("verify the restore: %d %s%s", code, out, errs)
	}
	if code, out, _ := run(t, append(dst, "admin", "migrate")...); code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("migrate an up-to-date archive: %d %s", code, out)
	}
	// The source archive keeps its blob setting.
	if code, _, errs := run(t, "--data", filepath.Join(dir, "src"), "admin", "verify"); code != 2 || !strings.Contains(errs, "keeps its content in files:") {
		t.Errorf("opening with another blob store: %d %s", code, errs)
	}
	// Damage shows.
	os.RemoveAll(filepath.Join(dir, "src-blobs"))
	os.MkdirAll(filepath.Join(dir, "src-blobs"), 0o700)
	if code, out, _ := run(t, append(src, "admin", "verify")...); code != 1 || !strings.Contains(out, "blob is missing") {
		t.Errorf("verify with the blobs gone: %d %s", code, out)
	}
}

func TestOrganisationsRegistersArchivists(t *testing.T) {
	data := t.TempDir()
	mustInit(t, "--data", data)
	r := func(args ...string) (int, string, string) {
		return run(t, append([]string{"--data", data}, args...)...)
	}
	const vantaa, county = "1.2.246.10.3221356.10.0", "1.2.246.10.2012566.10.40"
	if code, out, errs := r("admin", "org", "add", "--oid", vantaa, "--name", "Vantaan kaupunki", "--name-sv", "Vanda stad", "--name-en", "City of Vantaa",
		"--business-id", "3221356-1", "--kind", "public", "--active-to", "2023-01-01"); code != 0 {
		t.Fatalf("org add: %s%s", out, errs)
	}
	if code, out, errs := r("admin", "org", "add", "--oid", county, "--name", "Hyvinvointialue", "--kind", "public", "--active-from", "2023-01-01"); code != 0 {
		t.Fatalf("org add: %s%s", out, errs)
	}
	for _, bad := range [][]string{
		{"--oid", "1.2.3", "--name", "x", "--kind", "public", "--business-id", "3221356-2"},
		{"--oid", "1.2.3", "--name", "x", "--kind", "public", "--active-from", "1.1.2023"},
		{"--oid", "1.2.3", "--name", "x", "--kind", "public", "--active-from", "2023-01-01", "--active-to", "2022-01-01"},
		{"--oid", "1.2.3", "--name", "x", "--kind", "public", "--parent", "1.2.3"},
	} {
		if code, _, errs := r(append([]string{"admin", "org", "add"}, bad...)...); code != 2 || !strings.Contains(errs, "--") {
			t.Errorf("org add %v: exit %d %s", bad, code, errs)
		}
	}
	if code, _, errs := r("admin", "org", "set", "--oid", vantaa, "--name-en", "Vantaa"); code != 0 {
		t.Fatalf("org set: %s", errs)
	}
	_, out, _ := r("admin", "org", "show", "--oid", vantaa)
	for _, want := range []string{"Vanda stad", "name (en)     Vantaa", "3221356-1", "register      1 (Social welfare client register): 0 documents", "– 2023-01-01"} {
		if !strings.Contains(out, want) {
			t.Errorf("org show lacks %q:\n%s", want, out)
		}
	}
	if _, out, _ := r("admin", "org", "list"); !strings.Contains(out, "no") || !strings.Contains(out, "yes") {
		t.Errorf("org list shows no active column:\n%s", out)
	}
	if code, _, errs := r("admin", "register", "add", "--controller", vantaa, "--type", "7"); code != 2 || !strings.Contains(errs, "--type") {
		t.Errorf("register of an unknown type: %d %s", code, errs)
	}
	if code, _, errs := r("admin", "archivist", "add", "--person", "10000000001", "--name", "Arkistonhoitaja", "--controller", county); code != 0 {
		t.Fatalf("archivist add: %s", errs)
	}
	if _, out, _ := r("admin", "archivist", "list", "--controller", county); !strings.Contains(out, "10000000001") || !strings.Contains(out, "Arkistonhoitaja") {
		t.Errorf("archivist list:\n%s", out)
	}
	if code, _, _ := r("admin", "archivist", "remove", "--person", "10000000001", "--controller", county); code != 0 {
		t.Error("archivist remove failed")
	}
	if code, _, errs := r("admin", "archivist", "remove", "--person", "10000000001", "--controller", county); code != 2 || !strings.Contains(errs, "is not an archivist") {
		t.Errorf("removing twice: %d %s", code, errs)
	}
	// The register moves; the old one is marked, a second transfer refused.
	code, out, errs := r("admin", "register", "transfer", "--from", vantaa, "--to", county, "--type", "1", "--effective", "2023-01-01")
	if code != 0 || !strings.Contains(out, "0 of 0 documents moved") {
		t.Fatalf("transfer: %d %s%s", code, out, errs)
	}
	if _, out, _ := r("admin", "register", "list"); !strings.Contains(out, county) || !strings.Contains(out, "finished") {
		t.Errorf("register list after the transfer:\n%s", out)
	}
	if _, out, _ := r("admin", "register", "show", "--controller", vantaa); !strings.Contains(out, "transferred to "+county+" on 2023-01-01") {
		t.Errorf("register show:\n%s", out)
	}
	if code, _, errs := r("admin", "register", "transfer", "--from", vantaa, "--to", county, "--effective", "2023-01-01"); code != 2 || !strings.Contains(errs, "already transferred") {
		t.Errorf("second transfer: %d %s", code, errs)
	}
	if code, _, errs := r("admin", "register", "transfer", "--from", vantaa, "--to", county); code != 2 || !strings.Contains(errs, "--effective") {
		t.Errorf("transfer without a date: %d %s", code, errs)
	}
}

// TestCommandsRefuseAPlaceWithoutArchive: every command that reads or
// changes an archive refuses a --data directory (missing, or there but
// empty) or a --database that holds no archive, naming the place and
// saying how to create one, and creates nothing there; admin init creates
// one, and refuses to do it twice.
func TestCommandsRefuseAPlaceWithoutArchive(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.NewCA("cli test CA", pki.P256, time.Now().Add(-time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Issue(pki.Template{Subject: pkix.Name{CommonName: "localhost"}, TLSServer: true, DNSNames: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Save(filepath.Join(dir, "server")); err != nil {
		t.Fatal(err)
	}
	if err := ca.Save(filepath.Join(dir, "ca")); err != nil {
		t.Fatal(err)
	}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour)}, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crl"), crl, 0o600); err != nil {
		t.Fatal(err)
	}
	const org = "1.2.246.10.1234567.10.0"
	commands := [][]string{
		{"admin", "verify"},
		{"admin", "verify", "--json"},
		{"admin", "migrate"},
		{"admin", "backup", "--to", filepath.Join(dir, "backup")},
		{"admin", "restore", "--from", filepath.Join(dir, "backup")},
		{"admin", "trust", "add", "--ca", filepath.Join(dir, "ca.crt")},
		{"admin", "trust", "list"},
		{"admin", "org", "add", "--oid", org, "--name", "Kunta", "--kind", "public"},
		{"admin", "org", "list"},
		{"admin", "org", "show", "--oid", org},
		{"admin", "register", "list"},
		{"admin", "archivist", "list"},
		{"admin", "system", "add", "--org", org, "--name", "s", "--cert", filepath.Join(dir, "ca.crt")},
		{"admin", "system", "list"},
		{"admin", "crl", "add", "--crl", filepath.Join(dir, "ca.crl")},
		{"archive", "--system", "s", samples + "asiakkuusasiakirja_S.xml"},
		{"serve", "--tls-cert", filepath.Join(dir, "server.crt"), "--tls-key", filepath.Join(dir, "server.key"), "--listen", "127.0.0.1:0"},
	}
	missing := filepath.Join(dir, "typo", "data")
	empty := t.TempDir()
	places := []struct {
		name  string
		flags []string
		where string
		check func(t *testing.T)
	}{
		{"missing directory", []string{"--data", missing}, missing, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, "typo")); err == nil {
				t.Error("the missing directory was created")
			}
		}},
		{"empty directory", []string{"--data", empty}, empty, func(t *testing.T) {
			if ents, _ := os.ReadDir(empty); len(ents) != 0 {
				t.Errorf("files were created in the empty directory: %v", ents)
			}
		}},
	}
	if u := os.Getenv(storetest.EnvDatabaseURL); u != "" {
		schemaURL := storetest.PostgresURL(t, u)
		places = append(places, struct {
			name  string
			flags []string
			where string
			check func(t *testing.T)
		}{"empty database schema", []string{"--database", schemaURL}, "--database", func(t *testing.T) {
			conn, err := pgx.Connect(context.Background(), schemaURL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			var n int
			if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d tables were created in the empty schema (%v)", n, err)
			}
		}})
	}
	for _, p := range places {
		t.Run(p.name, func(t *testing.T) {
			for _, c := range commands {
				type result struct {
					code      int
					out, errs string
				}
				done := make(chan result, 1)
				go func() {
					code, out, errs := run(t, append(append([]string{}, p.flags...), c...)...)
					done <- result{code, out, errs}
				}()
				var res result
				select {
				case res = <-done:
				case <-time.After(time.Minute):
					t.Fatalf("%v did not refuse: it is still running (serving?) after a minute", c)
				}
				code, out, errs := res.code, res.out, res.errs
				if code == 0 || !strings.Contains(errs, "no archive in") || !strings.Contains(errs, p.where) || !strings.Contains(errs, "arkisto admin init") {
					t.Errorf("%v: exit %d, stdout %q, stderr %q; want a refusal naming the place and admin init", c, code, out, errs)
				}
				if strings.Contains(out, "no problems") {
					t.Errorf("%v reported no problems for a place without an archive", c)
				}
			}
			p.check(t)
			// admin init creates it, once.
			mustInit(t, p.flags...)
			if code, out, errs := run(t, append(append([]string{}, p.flags...), "admin", "verify")...); code != 0 || !strings.Contains(out, "holds no documents") {
				t.Errorf("verify a new archive: exit %d %s%s", code, out, errs)
			}
			if code, _, errs := run(t, append(append([]string{}, p.flags...), "admin", "init")...); code == 0 || !strings.Contains(errs, "an archive exists") {
				t.Errorf("second admin init: exit %d %s", code, errs)
			}
		})
	}
}

// TestDataDirWithURICharacters: --data naming a directory with '#' or '?'
// in its name works on the archive inside it, and nothing else is made.
func TestDataDirWithURICharacters(t *testing.T) {
	parent := t.TempDir()
	data := filepath.Join(parent, "arkisto?v=1#main")
	mustInit(t, "--data", data)
	const org = "1.2.246.10.1234567.10.0"
	if code, out, errs := run(t, "--data", data, "admin", "org", "add", "--oid", org, "--name", "Kunta", "--kind", "public"); code != 0 {
		t.Fatalf("org add: %s%s", out, errs)
	}
	if code, out, errs := run(t, "--data", data, "admin", "org", "list"); code != 0 || !strings.Contains(out, org) {
		t.Fatalf("org list: %d %s%s", code, out, errs)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 1 || ents[0].Name() != "arkisto?v=1#main" {
		t.Errorf("the parent holds %v, want only the data directory", ents)
	}
	if _, err := os.Stat(filepath.Join(data, "arkisto.db")); err != nil {
		t.Error(err)
	}
}

// TestDemoBannerNamesItsData: the demo's banner gives the --data that the
// admin commands need, and that command lists the demo's organisations;
// it says how to open the archivist UI with the archivist's bundle.
func TestDemoBannerNamesItsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := demo.Open(ctx, dir, demo.Options{Documents: 6, Clients: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	a := &app{stdout: &out, stderr: io.Discard}
	a.printDemo(d, "https://127.0.0.1:8443/fhir", "https://127.0.0.1:8443/archivist/")
	d.Close()
	for _, hint := range []string{
		"go run ./cmd/arkisto --data " + d.Data() + " admin org list",
		"Open https://127.0.0.1:8443/archivist/",
		d.Archivist() + ".p12 (password " + demo.ArchivistP12Password + ")",
	} {
		if !strings.Contains(out.String(), hint) {
			t.Fatalf("the banner does not say %q:\n%s", hint, out.String())
		}
	}
	code, list, errs := run(t, "--data", d.Data(), "admin", "org", "list")
	if code != 0 || !strings.Contains(list, d.World.Organisations[0].ControllerOID()) {
		t.Fatalf("admin org list on the demo's data: exit %d\n%s%s", code, list, errs)
	}
	// The citizen view's part names the demo guardian, whom the development
	// provider lists, and admin guardian list shows the guardianship.
	out.Reset()
	a.printCitizen(d, "https://127.0.0.1:8443/citizen/", "http://127.0.0.1:8444")
	if !strings.Contains(out.String(), d.Guardian) {
		t.Errorf("the citizen banner does not name the demo guardian:\n%s", out.String())
	}
	people := demoPeople(d)
	if len(people) == 0 || people[len(people)-1].Hetu != d.Guardian {
		t.Errorf("the development provider's list does not end with the guardian: %+v", people)
	}
	code, list, errs = run(t, "--data", d.Data(), "admin", "guardian", "list", "--guardian", d.Guardian)
	if code != 0 || !strings.Contains(list, d.Child) {
		t.Errorf("admin guardian list on the demo's data: exit %d\n%s%s", code, list, errs)
	}
}

// TestStorageFlagsOnlyWhereUsed: only commands that open the archive offer
// --data, --database and --blobs, and they may stand before the command.
func TestStorageFlagsOnlyWhereUsed(t *testing.T) {
	root := (&app{stdout: io.Discard, stderr: io.Discard}).rootCmd()
	opens := map[string]bool{"admin": true, "serve": true, "validate": true, "archive": true}
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		for _, leaf := range append([]*cobra.Command{c}, c.Commands()...) {
			has := leaf.LocalFlags().Lookup("data") != nil || leaf.InheritedFlags().Lookup("data") != nil
			if has != opens[c.Name()] {
				t.Errorf("%s: --data offered %v, want %v", leaf.CommandPath(), has, opens[c.Name()])
			}
		}
	}
	dir := filepath.Join(t.TempDir(), "archive")
	mustInit(t, "--data", dir)
	if code, out, errs := run(t, "--data", dir, "admin", "org", "list"); code != 0 {
		t.Fatalf("--data before the command: exit %d %s%s", code, out, errs)
	}
}

// TestBundleNamesTheFile: a file that is not a CDA document is named, with
// the reason.
func TestBundleNamesTheFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(f, []byte("just some notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, "bundle", f)
	if code != 2 || !strings.Contains(errs, f+" is not a CDA document: ") || !regexp.MustCompile(`: [A-Z]+_[A-Z_]+: `).MatchString(errs) {
		t.Fatalf("bundle of a text file: exit %d, %q", code, errs)
	}
}
