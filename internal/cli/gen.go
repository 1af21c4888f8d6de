package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fhirapi"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/progress"
	"github.com/arkisto/arkisto/internal/xmlsafe"
)

func (a *app) genCmd() *cobra.Command {
	var out, pkiDir, key, relFor, relSystem string
	var count, clients, replaceEvery, strippedEvery int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "gen --out DIR [--count N] [--clients M]",
		Short: "Generate realistic signed documents for synthetic clients",
		Long: `Generates signed Kanta social welfare CDA documents for synthetic clients
(identity codes in the 900–999 test range): a client relationship document per
client, then client plans tied to cases, and corrections (replacements).

The test PKI (CA, organisations' system certificates, professionals'
certificates) is created in --pki (default DIR/pki) or reused from there.
Documents are written one file each under DIR/docs/, in an order that can be
archived as is (originals before their replacements), and listed in
DIR/manifest.tsv (file, document id, version, client, the system that may
archive it). Generation is
streamed: memory does not grow with --count.

To archive them: arkisto admin init (once), arkisto admin trust add --ca DIR/pki/ca.crt, onboard the
organisations and systems listed in DIR/pki/world.json, then arkisto archive.

With --relationship-for CODE --system NAME it writes one document instead: a
client relationship document of that system's organisation with the existing
client CODE, as when another organisation starts serving the client.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out: an output directory is required")
			}
			if count < 1 {
				return errors.New("--count: must be at least 1")
			}
			if pkiDir == "" {
				pkiDir = filepath.Join(out, "pki")
			}
			world, err := gen.LoadOrCreatePKI(pkiDir, gen.PKIOptions{Seed: seed, KeyType: pki.KeyType(key)})
			if err != nil {
				return fmt.Errorf("test PKI in %s: %w", pkiDir, err)
			}
			g := gen.New(world, gen.Options{Seed: seed, Clients: clients, ReplaceEvery: replaceEvery, StrippedEvery: strippedEvery})
			next := g.Next
			if relFor != "" || relSystem != "" {
				var org *gen.Organisation
				var names []string
				for _, o := range world.Organisations {
					names = append(names, o.SystemName)
					if o.SystemName == relSystem {
						org = o
					}
				}
				if org == nil {
					return fmt.Errorf("--system: no system %q in the PKI; its systems are %s", relSystem, strings.Join(names, ", "))
				}
				if !hetu.Valid(relFor) {
					return errors.New("--relationship-for: not a valid personal identity code")
				}
				count, clients = 1, 1
				next = func() (*gen.Doc, error) { return g.RelationshipFor(org, relFor) }
			}
			ctx := cmd.Context()
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			mf, err := os.Create(filepath.Join(out, "manifest.tsv"))
			if err != nil {
				return err
			}
			defer mf.Close()
			manifest := bufio.NewWriter(mf)
			fmt.Fprintln(manifest, "file\tdocument\tversion\tclient_system\tclient\tsystem")
			bar := progress.New(a.stderr, "generating documents", int64(count), "docs")
			defer bar.Finish()
			for i := 0; i < count; i++ {
				if err := ctx.Err(); err != nil {
					return err
				}
				d, err := next()
				if err != nil {
					return err
				}
				dir := filepath.Join(out, "docs", fmt.Sprintf("%04d", i/1000))
				if i%1000 == 0 {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						return err
					}
				}
				name := filepath.Join(dir, fmt.Sprintf("%08d.xml", i))
				if err := os.WriteFile(name, d.XML, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(manifest, "%s\t%s\t%d\turn:oid:%s\t%s\t%s\n", name, d.Header.ID, d.Header.Version, d.Header.Client.ID.Root, d.Header.Client.ID.Extension, d.Org.SystemName)
				bar.Add(1)
			}
			if err := manifest.Flush(); err != nil {
				return err
			}
			bar.Finish()
			fmt.Fprintf(a.stdout, "%s for %s in %s (listed in %s); PKI in %s\n", progress.Plural(count, "document", "documents"), progress.Plural(min(clients, count), "client", "clients"), filepath.Join(out, "docs"), filepath.Join(out, "manifest.tsv"), pkiDir)
			for _, o := range world.Organisations {
				fmt.Fprintf(a.stdout, "organisation %s %q (%s), system %q\n", o.ControllerOID(), o.Name, o.Kind, o.SystemName)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "output directory")
	f.StringVar(&pkiDir, "pki", "", "PKI directory to create or reuse (default OUT/pki)")
	f.StringVar(&key, "key", string(pki.RSA2048), "key type of new certificates: rsa2048, rsa3072 or p256")
	f.IntVar(&count, "count", 100, "number of documents")
	f.IntVar(&clients, "clients", 10, "number of synthetic clients")
	f.IntVar(&replaceEvery, "replace-every", 5, "make every n-th client document a correction (0: none)")
	f.IntVar(&strippedEvery, "stripped-every", 0, "sign every n-th document over its whitespace-free form, as a .NET signer does (0: none)")
	f.Uint64Var(&seed, "seed", 0, "random seed (0: random)")
	f.StringVar(&relFor, "relationship-for", "", "write one client relationship document with this existing client (identity code) instead")
	f.StringVar(&relSystem, "system", "", "with --relationship-for: the system whose organisation serves the client")
	return cmd
}

func (a *app) archiveCmd() *cobra.Command {
	var system, person, unit, purpose string
	cmd := &cobra.Command{
		Use:   "archive --system NAME FILE|DIR...",
		Short: "Archive document files as a registered system",
		Long: `Archives CDA document files into the embedded archive as the named
registered system (and so its organisation), exactly as the FHIR door would,
with validation, signature verification and access logging. Directories are
walked in name order. Exit status 1 when any document is refused.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if system == "" {
				return errors.New("--system: the registered system to archive as is required")
			}
			ctx := cmd.Context()
			svc, st, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var sys *archive.System
			if err := st.View(ctx, func(tx archive.Tx) error {
				sys, err = tx.System(ctx, system)
				return err
			}); err != nil {
				if errors.Is(err, archive.ErrNotFound) {
					return fmt.Errorf("--system: no registered system %q; see arkisto admin system list", system)
				}
				return err
			}
			caller := archive.Caller{System: sys.Name, Organisation: sys.Organisation, Person: person, Unit: unit, Purpose: purpose}
			files, err := expand(args)
			if err != nil {
				return err
			}
			var ok, refused int
			bar := progress.New(a.stderr, "archiving", int64(len(files)), "docs")
			defer bar.Finish()
			for _, f := range files {
				if err := ctx.Err(); err != nil {
					return err
				}
				data, err := readLimited(f, svc.MaxDocumentBytes())
				if err != nil {
					return err
				}
				rec, err := svc.Archive(ctx, caller, data)
				bar.Add(1)
				var ae *archive.Error
				switch {
				case errors.As(err, &ae):
					refused++
					bar.Above(func() {
						fmt.Fprintf(a.stdout, "%s: refused: %s\n", f, ae.Message)
						for _, p := range ae.Problems {
							fmt.Fprintf(a.stdout, "  %s at %s: %s\n", p.Code, p.Path, p.Message)
						}
					})
				case err != nil:
					return fmt.Errorf("%s: %w", f, err)
				default:
					ok++
					if len(files) <= 20 {
						bar.Above(func() {
							fmt.Fprintf(a.stdout, "%s: archived %s version %d (%s)\n", f, rec.Header.ID, rec.Header.Version, rec.Status)
						})
					}
				}
			}
			bar.Finish()
			fmt.Fprintf(a.stdout, "%d archived, %d refused\n", ok, refused)
			if refused > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&system, "system", "", "registered system name")
	cmd.Flags().StringVar(&person, "person", "", "registration number of the acting professional")
	cmd.Flags().StringVar(&unit, "unit", "", "service unit OID")
	cmd.Flags().StringVar(&purpose, "purpose", codes.UsageOwnRegister, "usage situation code")
	a.storageFlags(cmd.Flags())
	return cmd
}

// expand lists the files named, walking directories in name order.
func expand(args []string) ([]string, error) {
	var out []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, arg)
			continue
		}
		var found []string
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".xml") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

func (a *app) bundleCmd() *cobra.Command {
	var opt fhirapi.BundleOptions
	cmd := &cobra.Command{
		Use:   "bundle FILE...",
		Short: "Wrap CDA documents in an ITI-65 Provide Document Bundle (FHIR JSON)",
		Long: `Prints a FHIR transaction Bundle that submits the documents to the
archive (POST /fhir): a SubmissionSet List, and per document a
DocumentReference with metadata read from the CDA and a Binary with the
document itself; for a correction (a CDA that replaces an earlier version)
also the IHE MHD UpdateDocumentRefs entry, a PATCH marking the replaced
DocumentReference superseded, unless --no-patch. The Bundle follows the
IHE MHD 4.2 Minimal profiles.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			var docs [][]byte
			for _, f := range files {
				data, err := readLimited(f, xmlsafe.DefaultMaxBytes)
				if err != nil {
					return err
				}
				docs = append(docs, data)
			}
			b, err := fhirapi.SubmissionBundleWith(opt, docs...)
			var unreadable *fhirapi.UnreadableError
			if errors.As(err, &unreadable) {
				return fmt.Errorf("%s is not a CDA document: %s", files[unreadable.Index], unreadable.Reason)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "%s\n", b)
			return err
		},
	}
	cmd.Flags().BoolVar(&opt.NoPatch, "no-patch", false, "leave out the UpdateDocumentRefs PATCH of a replaced version (the correction is then recognised from its CDA alone)")
	return cmd
}
