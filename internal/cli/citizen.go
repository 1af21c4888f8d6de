package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/citizenui"
	"github.com/arkisto/arkisto/internal/demo"
	"github.com/arkisto/arkisto/internal/devidp"
)

const defaultDevIdPListen = "127.0.0.1:8444"

// devIdPClientID is the citizen view's client id at the development
// identity provider.
const devIdPClientID = "arkisto-citizen-view"

// citizenConfig reads serve's OpenID Connect flags: a provider, the
// development provider (--dev-idp alone is enough), or no citizen view.
func (a *app) citizenConfig(issuer, clientID, secretFile, claim string, dev bool, devListen string) (*citizenui.Config, *devIdP, error) {
	if dev {
		if issuer != "" || clientID != "" || secretFile != "" {
			return nil, nil, errors.New("--dev-idp: the development identity provider replaces --oidc-issuer, --oidc-client-id and --oidc-client-secret-file; give one or the other")
		}
		idp, err := listenDevIdP(devListen)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintln(a.stderr, "WARNING: "+devidp.Warning+" (--dev-idp, "+idp.issuer+")")
		cfg := idp.config()
		cfg.Claim = claim
		return cfg, idp, nil
	}
	if issuer == "" {
		if clientID != "" || secretFile != "" {
			return nil, nil, errors.New("--oidc-issuer: the citizen view's OpenID Connect provider is required with --oidc-client-id and --oidc-client-secret-file")
		}
		return nil, nil, nil
	}
	if clientID == "" || secretFile == "" {
		return nil, nil, errors.New("--oidc-client-id and --oidc-client-secret-file: required with --oidc-issuer")
	}
	if !strings.HasPrefix(issuer, "https://") {
		return nil, nil, fmt.Errorf("--oidc-issuer: %q must be an https:// URL", issuer)
	}
	b, err := os.ReadFile(secretFile)
	if err != nil {
		return nil, nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return nil, nil, errors.New("--oidc-client-secret-file: the file is empty")
	}
	return &citizenui.Config{Issuer: issuer, ClientID: clientID, ClientSecret: secret, Claim: claim}, nil, nil
}

// devIdP is the development identity provider while it starts: its
// listener is open (so the citizen view knows the issuer) before the
// archive's own address, and so the callback, is known.
type devIdP struct {
	ln       net.Listener
	issuer   string
	secret   string
	provider *devidp.Provider
}

func listenDevIdP(addr string) (*devIdP, error) {
	ln, err := devidp.Listen(addr)
	if err != nil {
		return nil, fmt.Errorf("--dev-idp-listen: %w", err)
	}
	// A secret made for this run: nobody else needs to know it.
	return &devIdP{ln: ln, issuer: "http://" + ln.Addr().String(), secret: rand.Text()}, nil
}

func (d *devIdP) config() *citizenui.Config {
	return &citizenui.Config{Issuer: d.issuer, ClientID: devIdPClientID, ClientSecret: d.secret}
}

// serve starts the provider with the citizen view as its client.
func (d *devIdP) serve(citizenURL string, people []devidp.Person, log *slog.Logger) error {
	p, err := devidp.Serve(d.ln, devidp.Options{Issuer: d.issuer, Logger: log, People: people,
		Clients: []devidp.Client{{ID: devIdPClientID, Secret: d.secret, Redirects: []string{citizenURL + "callback"}}}})
	if err != nil {
		return err
	}
	d.provider = p
	return nil
}

func (d *devIdP) shutdown() {
	if d.provider != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.provider.Shutdown(ctx)
	}
}

// close closes the listener if the provider never started on it.
func (d *devIdP) close() {
	if d.provider == nil {
		d.ln.Close()
	}
}

// demoPeople are the demo's first clients, offered on the development
// provider's login page.
func demoPeople(d *demo.Demo) []devidp.Person {
	var out []devidp.Person
	for i, c := range d.Clients {
		if i == 8 {
			break
		}
		if devidp.TestCode(c) == nil {
			out = append(out, devidp.Person{Hetu: c, Name: fmt.Sprintf("Demoasiakas %d", i+1)})
		}
	}
	if d.Guardian != "" && devidp.TestCode(d.Guardian) == nil {
		out = append(out, devidp.Person{Hetu: d.Guardian, Name: demo.GuardianName + " (huoltaja, guardian)"})
	}
	return out
}

func (a *app) printCitizen(d *demo.Demo, citizenURL, issuer string) {
	client := ""
	if len(d.Clients) > 0 {
		client = d.Clients[0]
	}
	fmt.Fprintf(a.stdout, `
The citizen view, in a browser (accept the warning about the demo server's
certificate, or trust %s):

  1. Open %s
  2. The development identity provider (%s) asks for a personal
     identity code: pick a demo client, e.g. %s.
  3. See the client's documents, who used their data, and give consent.
  4. Sign in as %s (%s), a guardian: pick the child, and see the
     child's documents that may be shown to guardians.

WARNING: %s.

Press Ctrl-C to stop.
`, d.PKI()+"/ca.crt", citizenURL+"documents", issuer, client, demo.GuardianName, d.Guardian, devidp.Warning)
}

var (
	taskCodeRE    = regexp.MustCompile(`^[0-9]{1,4}$`)
	typeCodeRE    = regexp.MustCompile(`^[0-9]{1,8}$`)
	serviceCodeRE = regexp.MustCompile(`^[0-9]{1,6}$`)
)

// citizenHidden reads the citizen view's hidden categories from the flags.
func citizenHidden(tasks, types, services []string) (archive.CitizenHidden, error) {
	for _, t := range tasks {
		if !taskCodeRE.MatchString(t) {
			return archive.CitizenHidden{}, fmt.Errorf("--citizen-hide-service-task: %q is not a service task code (1.2.246.537.6.1221.201601: 1 to 4 digits)", t)
		}
	}
	for _, t := range types {
		if !typeCodeRE.MatchString(t) {
			return archive.CitizenHidden{}, fmt.Errorf("--citizen-hide-document-type: %q is not a document type code (1 to 8 digits)", t)
		}
	}
	for _, t := range services {
		if !serviceCodeRE.MatchString(t) {
			return archive.CitizenHidden{}, fmt.Errorf("--citizen-hide-social-service: %q is not a social service code (1.2.246.537.6.1222.201601: 1 to 6 digits)", t)
		}
	}
	return archive.CitizenHidden{ServiceTasks: tasks, DocumentTypes: types, SocialServices: services}, nil
}
