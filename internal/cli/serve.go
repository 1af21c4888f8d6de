package cli

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arkisto/arkisto/internal/auth"
	"github.com/arkisto/arkisto/internal/citizenui"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/demo"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/progress"
	"github.com/arkisto/arkisto/internal/server"
)

const defaultListen = "127.0.0.1:8443"

func (a *app) serveCmd() *cobra.Command {
	var listen, certFile, keyFile, publicURL string
	var oidcIssuer, oidcClientID, oidcSecretFile, oidcClaim, devIdPListen string
	var devIdP bool
	var hideTasks, hideTypes, hideServices []string
	maxBody := sizeValue(64 << 20)
	cmd := &cobra.Command{
		Use:   "serve --tls-cert FILE --tls-key FILE [--listen ADDR]",
		Short: "Serve the FHIR API and the archivist UI over HTTPS",
		Long: `Serves the archive's FHIR R4 API (IHE MHD, BALP AuditEvents) on HTTPS only.
Clients present a certificate that chains to the trust store (arkisto admin
trust add) and is registered to a system (arkisto admin system add), and a
bearer JWT per request signed by that system's key. The archivist UI is at
/archivist/ on the same address: an archivist (arkisto admin archivist add)
logs in with a professional certificate chained to the trust store. With
--oidc-issuer (or --dev-idp), the citizen view is at /citizen/: clients sign
in through that OpenID Connect provider (docs/citizen.md). /healthz and
/metrics (Prometheus) are served on the same address. SIGTERM or Ctrl-C
shuts down gracefully, finishing requests in flight.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if certFile == "" || keyFile == "" {
				return errors.New("--tls-cert and --tls-key: the server's certificate and key are required (HTTPS only)")
			}
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return fmt.Errorf("--tls-cert/--tls-key: %w", err)
			}
			citizen, idp, err := a.citizenConfig(oidcIssuer, oidcClientID, oidcSecretFile, oidcClaim, devIdP, devIdPListen)
			if err != nil {
				return err
			}
			if idp != nil {
				defer idp.close()
			}
			if a.rules.CitizenHidden, err = citizenHidden(hideTasks, hideTypes, hideServices); err != nil {
				return err
			}
			ctx := cmd.Context()
			svc, st, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			run, err := server.Start(ctx, svc, server.Options{Listen: listen, Cert: cert, PublicURL: publicURL, MaxBody: int64(maxBody), Logger: a.logger, Store: st, Citizen: citizen})
			if err != nil {
				return err
			}
			if idp != nil {
				if err := idp.serve(run.CitizenURL, nil, a.logger); err != nil {
					run.Shutdown(ctx)
					return err
				}
				defer idp.shutdown()
			}
			fmt.Fprintf(a.stdout, "arkisto serving %s and the archivist UI %s (data %s)\n", run.BaseURL, run.ArchivistURL, a.dataDir)
			if run.CitizenURL != "" {
				fmt.Fprintf(a.stdout, "the citizen view %s signs in with %s\n", run.CitizenURL, citizen.Issuer)
			}
			return run.Wait(ctx, 30*time.Second, a.logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", defaultListen, "address to listen on")
	f.StringVar(&certFile, "tls-cert", "", "server certificate (PEM, with chain)")
	f.StringVar(&keyFile, "tls-key", "", "server private key (PEM)")
	f.StringVar(&publicURL, "public-url", "", "base URL clients use, if not https://<listen>")
	f.Var(&maxBody, "max-body", "request body limit: bytes, or with KiB, MiB or GiB")
	f.StringVar(&oidcIssuer, "oidc-issuer", "", "the citizen view's OpenID Connect provider (issuer URL); without it and --dev-idp, no citizen view")
	f.StringVar(&oidcClientID, "oidc-client-id", "", "the citizen view's client id at the provider")
	f.StringVar(&oidcSecretFile, "oidc-client-secret-file", "", "file holding the citizen view's client secret at the provider")
	f.StringVar(&oidcClaim, "oidc-claim", citizenui.DefaultClaim, "ID token claim that carries the personal identity code")
	f.BoolVar(&devIdP, "dev-idp", false, "serve a DEVELOPMENT identity provider (test identity codes, no password) and sign the citizen view in with it: never in production")
	f.StringVar(&devIdPListen, "dev-idp-listen", defaultDevIdPListen, "address of the development identity provider (plain HTTP)")
	f.StringSliceVar(&hideTasks, "citizen-hide-service-task", nil, "service task code whose documents the citizen view never shows (shelter-home, domestic-violence services); repeat or comma-separate")
	f.StringSliceVar(&hideTypes, "citizen-hide-document-type", nil, "general or specific document type code the citizen view never shows (payment commitments); repeat or comma-separate")
	f.StringSliceVar(&hideServices, "citizen-hide-social-service", nil, "social service code: the citizen view never shows a document whose structured form names it (shelter-home services); repeat or comma-separate")
	a.storageFlags(f)
	return cmd
}

func (a *app) demoCmd() *cobra.Command {
	var dir, listen, devIdPListen string
	var docs, clients int
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR] [--listen ADDR]",
		Short: "Create (or reuse) a demo archive and serve it",
		Long: `Creates ./arkisto-demo if it is missing: a demo PKI (a CA, a server
certificate, organisations each with a system certificate and key, written as
files), and a few hundred generated documents for synthetic clients archived
through the real archive. Then serves it over HTTPS and prints the FHIR base
URL and a ready-to-paste curl command. Run again, it reuses the directory.
The demo's data directory is DIR/data (--data is ignored).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			fmt.Fprintln(a.stdout, demoIntro(dir))
			// Archiving the demo's documents one by one is not news to the operator.
			setupLog := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			d, err := demo.Open(ctx, dir, demo.Options{Documents: docs, Clients: clients}, setupLog)
			if err != nil {
				return err
			}
			defer d.Close()
			serverCert, err := demoServerCert(d, listen)
			if err != nil {
				return err
			}
			idp, err := listenDevIdP(devIdPListen)
			if err != nil {
				return err
			}
			defer idp.close()
			citizen := idp.config()
			run, err := server.Start(ctx, d.Service, server.Options{Listen: listen, Cert: serverCert, Logger: a.logger, Store: d.Store, Citizen: citizen})
			if err != nil {
				return err
			}
			if err := idp.serve(run.CitizenURL, demoPeople(d), a.logger); err != nil {
				run.Shutdown(ctx)
				return err
			}
			defer idp.shutdown()
			a.printDemo(d, run.BaseURL, run.ArchivistURL)
			a.printCitizen(d, run.CitizenURL, idp.issuer)
			return run.Wait(ctx, 30*time.Second, a.logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "./arkisto-demo", "demo directory")
	f.StringVar(&listen, "listen", defaultListen, "address to listen on")
	f.IntVar(&docs, "docs", 300, "documents to generate when creating the demo")
	f.IntVar(&clients, "clients", 40, "synthetic clients when creating the demo")
	f.StringVar(&devIdPListen, "dev-idp-listen", defaultDevIdPListen, "address of the demo's development identity provider (plain HTTP)")
	return cmd
}

// sizeValue is a flag holding a size, shown and read in binary units
// ("64 MiB", "64MiB") or as bytes.
type sizeValue int64

func (v *sizeValue) String() string { return progress.Size(int64(*v)) }
func (v *sizeValue) Type() string   { return "size" }

func (v *sizeValue) Set(s string) error {
	n, err := progress.ParseSize(s)
	if err != nil {
		return err
	}
	*v = sizeValue(n)
	return nil
}

// demoIntro is what the demo says before it opens its directory.
func demoIntro(dir string) string {
	if demo.Exists(dir) {
		return fmt.Sprintf("reusing the demo archive in %s", dir)
	}
	return fmt.Sprintf("preparing a new demo archive in %s (it takes a minute) ...", dir)
}

// demoServerCert loads the demo's server certificate, issuing one for
// localhost and the listen address if it is missing.
func demoServerCert(d *demo.Demo, listen string) (tls.Certificate, error) {
	base := filepath.Join(d.PKI(), "server")
	if _, err := os.Stat(base + ".crt"); err != nil {
		host, _, err := net.SplitHostPort(listen)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("--listen: %w", err)
		}
		t := pki.Template{Subject: pkixName("arkisto demo server"), TLSServer: true, DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}}
		if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
			t.IPs = append(t.IPs, ip)
		} else if ip == nil && host != "" && host != "localhost" {
			t.DNSNames = append(t.DNSNames, host)
		}
		id, err := d.World.CA.Issue(t)
		if err != nil {
			return tls.Certificate{}, err
		}
		if err := id.Save(base); err != nil {
			return tls.Certificate{}, err
		}
	}
	return tls.LoadX509KeyPair(base+".crt", base+".key")
}

func pkixName(cn string) pkix.Name {
	return pkix.Name{Country: []string{"FI"}, Organization: []string{"arkisto demo"}, CommonName: cn}
}

func (a *app) printDemo(d *demo.Demo, baseURL, archivistURL string) {
	org := d.World.Organisations[0]
	client := ""
	for _, c := range d.Clients {
		client = c
		break
	}
	tok, err := demoToken(d.World, org, 10*time.Minute)
	if err != nil {
		fmt.Fprintln(a.stderr, "cannot make a demo token:", err)
	}
	pkiDir := d.PKI()
	fmt.Fprintf(a.stdout, `
The demo archive is running.

  FHIR base URL   %s
  data            %s
  demo PKI        %s (ca.crt, system-N.crt/.key, archivist.p12; see world.json)
  systems         `, baseURL, d.Data(), pkiDir)
	for i, o := range d.World.Organisations {
		if i > 0 {
			fmt.Fprint(a.stdout, "                  ")
		}
		fmt.Fprintf(a.stdout, "%s  (%s, %s, key %s)\n", o.SystemName, o.Name, o.ControllerOID(), filepath.Join(pkiDir, fmt.Sprintf("system-%d.key", i+1)))
	}
	fmt.Fprintf(a.stdout, `
List one demo client's documents (the token is single-use and valid 10 minutes;
make a new one with: go run ./cmd/arkisto token --system %s):

curl --cert %s --key %s --cacert %s \
  -H 'Authorization: Bearer %s' \
  '%s/DocumentReference?patient.identifier=%s%%7C%s'

Administer the demo archive from another terminal with its --data, for example:

  go run ./cmd/arkisto --data %s admin org list

The archivist UI, in a browser, as the demo archivist %s %s (registration
number %s, archivist of the demo's public organisers):

  1. Import %s (password %s) into the browser's own
     certificates (Chromium: Settings > Privacy and security > Security >
     Manage certificates > Your certificates > Import; Firefox: Settings >
     Privacy & Security > View Certificates > Your Certificates > Import).
  2. Trust the demo CA %s for websites (Authorities > Import),
     or accept the browser's warning about the server's certificate.
  3. Open %s and pick the archivist's certificate.
`, org.SystemName,
		filepath.Join(pkiDir, "system-1.crt"), filepath.Join(pkiDir, "system-1.key"), filepath.Join(pkiDir, "ca.crt"),
		tok, baseURL, SystemIdentityCodeURN, client, d.Data(),
		demo.ArchivistGiven, demo.ArchivistFamily, demo.ArchivistPerson,
		d.Archivist()+".p12", demo.ArchivistP12Password, filepath.Join(pkiDir, "ca.crt"), archivistURL)
}

// SystemIdentityCodeURN is the system of identity codes in FHIR identifiers.
const SystemIdentityCodeURN = "urn:oid:" + hetu.OIDRoot

// demoToken makes a token for a demo professional of the organisation.
func demoToken(w *gen.PKI, org *gen.Organisation, ttl time.Duration) (string, error) {
	sub, name := "10000000001", "Demo Käyttäjä"
	for _, p := range w.Professionals {
		if p.OrgOID == org.OID {
			sub, name = p.RegistrationNumber, p.Given+" "+p.Family
			break
		}
	}
	return auth.Sign(org.System.Key, auth.NewClaims(sub, name, org.Units[1].OID, codes.UsageOwnRegister, ttl))
}

func (a *app) tokenCmd() *cobra.Command {
	var system, demoDir, keyFile, sub, name, unit, purpose, justification, justificationText string
	var ttl time.Duration
	claims := func() auth.Claims {
		c := auth.NewClaims(sub, name, unit, purpose, ttl)
		c.Justification, c.JustificationText = justification, justificationText
		return c
	}
	cmd := &cobra.Command{
		Use:   "token (--system NAME | --key FILE) [--sub REG] [--name NAME] [--unit OID] [--purpose 1|disclosure|broad-search]",
		Short: "Make a bearer token for a request, signed with a system's key",
		Long: `Prints a JWT for one FHIR request: sub (the professional's registration
number), name, unit (service unit OID), purpose (1: use of the own
register; disclosure: also what other controllers may disclose with the
client's consent; broad-search: with --justification and
--justification-text), iat, exp and a fresh jti, signed (RS256 or ES256) with the calling system's private
key. With --system, the key and, unless given, the professional and unit
are taken from the demo PKI (--demo, default ./arkisto-demo).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ttl <= 0 || ttl > auth.MaxTokenLifetime {
				return fmt.Errorf("--ttl: must be more than 0 and at most %v", auth.MaxTokenLifetime)
			}
			switch {
			case keyFile != "":
				data, err := os.ReadFile(keyFile)
				if err != nil {
					return err
				}
				k, err := pki.ParseKey(data)
				if err != nil {
					return fmt.Errorf("--key: %w", err)
				}
				if sub == "" || unit == "" || name == "" {
					return errors.New("--sub, --name and --unit are required with --key")
				}
				t, err := auth.Sign(k, claims())
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, t)
				return nil
			case system != "":
				w, err := gen.LoadPKI(filepath.Join(demoDir, "pki"))
				if err != nil {
					return fmt.Errorf("--demo: no demo PKI in %s (run arkisto demo first, or use --key): %w", demoDir, err)
				}
				var org *gen.Organisation
				var names []string
				for _, o := range w.Organisations {
					names = append(names, o.SystemName)
					if o.SystemName == system {
						org = o
					}
				}
				if org == nil {
					return fmt.Errorf("--system: no demo system %q; demo systems are %s", system, strings.Join(names, ", "))
				}
				for _, p := range w.Professionals {
					if p.OrgOID == org.OID && sub == "" {
						sub, name = p.RegistrationNumber, p.Given+" "+p.Family
					}
				}
				if unit == "" {
					unit = org.Units[1].OID
				}
				if name == "" {
					name = "Demo Käyttäjä"
				}
				t, err := auth.Sign(org.System.Key, claims())
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, t)
				return nil
			}
			return errors.New("--system or --key: say whose key signs the token")
		},
	}
	f := cmd.Flags()
	f.StringVar(&system, "system", "", "demo system name (key from the demo PKI)")
	f.StringVar(&demoDir, "demo", "./arkisto-demo", "demo directory for --system")
	f.StringVar(&keyFile, "key", "", "the system's private key (PEM)")
	f.StringVar(&sub, "sub", "", "professional's registration number")
	f.StringVar(&name, "name", "", "professional's name")
	f.StringVar(&unit, "unit", "", "service unit OID")
	f.StringVar(&purpose, "purpose", codes.UsageOwnRegister, "1 (use of the own register), disclosure or broad-search")
	f.StringVar(&justification, "justification", "", "a broad search's justification code (need-assessment, service-provision, child-welfare, statutory-task)")
	f.StringVar(&justificationText, "justification-text", "", "a broad search's justification in words")
	f.DurationVar(&ttl, "ttl", 5*time.Minute, "lifetime, at most 10m")
	return cmd
}
