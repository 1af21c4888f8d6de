package fhirapi_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/fhirapi"
)

// nodeToolsEnv names a directory whose node_modules holds fhir-kit-client
// and undici (.ci/run installs them). Without it the test skips, or fails
// under CI=true.
const nodeToolsEnv = "ARKISTO_NODE_TOOLS"

// TestFHIRKitClient runs an independent FHIR client library from npm,
// fhir-kit-client, against a real server over mutual TLS: it provides a
// document, resolves the Patient, finds with `patient`, searches by POST,
// retrieves, replaces with the MHD PATCH pattern and searches the audit
// log (testdata/fhirkit/client.mjs). The library decides how requests
// look; the test only hands it credentials and documents.
func TestFHIRKitClient(t *testing.T) {
	node, modules := nodeTools(t)
	forEachBackend(t, func(t *testing.T) { testFHIRKitClient(t, node, modules) })
}

func testFHIRKitClient(t *testing.T, node, modules string) {
	e := newEnv(t)
	org := e.world.Organisations[0]
	c := e.as(org)
	d := e.nextOf(org)

	provide, err := fhirapi.SubmissionBundle(d.XML)
	if err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, 40)
	for i := range tokens {
		tokens[i] = c.token()
	}
	key, err := x509.MarshalPKCS8PrivateKey(c.id.Key)
	if err != nil {
		t.Fatal(err)
	}
	certs := pemOf("CERTIFICATE", c.id.Cert.Raw)
	for _, x := range c.id.Chain {
		certs += pemOf("CERTIFICATE", x.Raw)
	}
	// The correction the client sends with the MHD replacement pattern.
	newID := d.Header.ID + ".2"
	_, v2 := e.replacement(d, newID, nil)
	fixture := map[string]any{
		"replace": map[string]any{
			"document": newID,
			"xml":      base64.StdEncoding.EncodeToString(v2),
			"sourceId": "urn:oid:" + d.Header.Custodian.OID,
		},
		"base":              e.root + "/fhir",
		"ca":                pemOf("CERTIFICATE", e.world.CA.Cert.Raw),
		"cert":              certs,
		"key":               pemOf("PRIVATE KEY", key),
		"tokens":            tokens,
		"provide":           json.RawMessage(provide),
		"document":          d.Header.ID,
		"sha256":            sha256Hex(d.XML),
		"patientIdentifier": clientParam(d.Header),
	}

	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join("testdata", "fhirkit", "client.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	// ES modules resolve packages next to the script: put it beside the
	// tools' node_modules.
	if err := os.WriteFile(filepath.Join(dir, "client.mjs"), script, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	fb, err := json.Marshal(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fixture.json"), fb, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, filepath.Join(dir, "client.mjs"), filepath.Join(dir, "fixture.json")).CombinedOutput()
	t.Logf("node client.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("fhir-kit-client run failed: %v", err)
	}
	for _, step := range []string{"metadata", "provide", "patient", "find", "post-search", "retrieve", "replace", "audit"} {
		if !strings.Contains(string(out), "ok "+step+"\n") {
			t.Errorf("step %s did not pass", step)
		}
	}
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// nodeTools finds node and the node_modules holding fhir-kit-client.
func nodeTools(t *testing.T) (node, modules string) {
	t.Helper()
	need := func(what string, err error) {
		t.Helper()
		if err == nil {
			return
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v (CI=true: this test must run; .ci/run installs it)", what, err)
		}
		t.Skipf("%s: %v", what, err)
	}
	node, err := exec.LookPath("node")
	need("node", err)
	dir := os.Getenv(nodeToolsEnv)
	if dir == "" {
		need("fhir-kit-client", errors.New(nodeToolsEnv+" is not set (npm install fhir-kit-client undici into a directory and name it)"))
	}
	modules, err = filepath.Abs(filepath.Join(dir, "node_modules"))
	if err == nil {
		for _, p := range []string{"fhir-kit-client", "undici"} {
			if _, serr := os.Stat(filepath.Join(modules, p, "package.json")); serr != nil {
				err = serr
			}
		}
	}
	need("fhir-kit-client and undici", err)
	return node, modules
}
