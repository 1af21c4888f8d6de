package cli

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arkisto/arkisto/internal/devidp"
)

// TestCitizenFlags: serve's OpenID Connect flags go together, an issuer
// is https, the secret is read from its file, and --dev-idp alone is
// enough, replaces the others, and warns.
func TestCitizenFlags(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	for _, tt := range []struct {
		name                      string
		issuer, id, file, wantErr string
		dev                       bool
	}{
		{name: "none: no citizen view"},
		{name: "a client id without an issuer", id: "x", wantErr: "--oidc-issuer"},
		{name: "an issuer without a client", issuer: "https://idp.example", wantErr: "--oidc-client-id"},
		{name: "a plain HTTP issuer", issuer: "http://idp.example", id: "x", file: secret, wantErr: "https://"},
		{name: "a missing secret file", issuer: "https://idp.example", id: "x", file: filepath.Join(dir, "nope"), wantErr: "--oidc-client-secret-file"},
		{name: "an empty secret file", issuer: "https://idp.example", id: "x", file: empty, wantErr: "empty"},
		{name: "a provider", issuer: "https://idp.example", id: "x", file: secret},
		{name: "the development provider and another", dev: true, issuer: "https://idp.example", wantErr: "--dev-idp"},
		{name: "the development provider", dev: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errb bytes.Buffer
			a := &app{stdout: io.Discard, stderr: &errb}
			cfg, idp, err := a.citizenConfig(tt.issuer, tt.id, tt.file, "urn:oid:1.2.246.21", tt.dev, "127.0.0.1:0")
			if idp != nil {
				defer idp.close()
			}
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.dev:
				if cfg == nil || idp == nil || cfg.Issuer != idp.issuer || cfg.ClientSecret == "" || !strings.Contains(errb.String(), "WARNING: DEVELOPMENT IDENTITY PROVIDER") {
					t.Fatalf("config %+v, warning %q", cfg, errb.String())
				}
			case tt.issuer == "":
				if cfg != nil {
					t.Fatalf("a citizen view without a provider: %+v", cfg)
				}
			default:
				if cfg == nil || cfg.ClientSecret != "s3cret" || cfg.Issuer != tt.issuer || cfg.ClientID != tt.id {
					t.Fatalf("config %+v", cfg)
				}
			}
		})
	}
}

// TestDevIdPServes: the development provider serve starts publishes its
// discovery document with the citizen view's callback registered.
func TestDevIdPServes(t *testing.T) {
	idp, err := listenDevIdP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer idp.close()
	if err := idp.serve("https://127.0.0.1:8443/citizen/", []devidp.Person{{Hetu: "131175-956E", Name: "Testi"}}, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	defer idp.shutdown()
	res, err := http.Get(idp.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `"issuer":"`+idp.issuer+`"`) || !strings.Contains(string(b), "S256") {
		t.Errorf("discovery: %d %s", res.StatusCode, b)
	}
}

// TestCitizenHidden: the hidden categories are codes, or a clear error
// naming the flag.
func TestCitizenHidden(t *testing.T) {
	for _, tt := range []struct {
		tasks, types, services []string
		wantErr                string
	}{
		{tasks: []string{"24", "3"}, types: []string{"15007"}, services: []string{"45"}},
		{services: []string{"4x"}, wantErr: "--citizen-hide-social-service"},
		{tasks: []string{"x"}, wantErr: "--citizen-hide-service-task"},
		{tasks: []string{"12345"}, wantErr: "--citizen-hide-service-task"},
		{types: []string{""}, wantErr: "--citizen-hide-document-type"},
	} {
		h, err := citizenHidden(tt.tasks, tt.types, tt.services)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v %v: err = %v, want one naming %s", tt.tasks, tt.types, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(h.ServiceTasks) != len(tt.tasks) || len(h.DocumentTypes) != len(tt.types) || len(h.SocialServices) != len(tt.services) {
			t.Errorf("%v %v: %+v, %v", tt.tasks, tt.types, h, err)
		}
	}
}
