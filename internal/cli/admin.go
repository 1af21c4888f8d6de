package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/backup"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/progress"
	"github.com/arkisto/arkisto/internal/storage"
)

func (a *app) adminCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "Operate the archive: create it, trust, organisations, systems, registers, archivists, guardians, CRLs, backups, verification"}
	a.storageFlags(cmd.PersistentFlags())
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Bring an existing archive's schema to this version (forward only; serve also does it on start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := a.storageConfig()
			from, to, err := storage.Migrate(cmd.Context(), cfg)
			if err != nil {
				return fmt.Errorf("migrate (%s): %w", cfg.Describe(), err)
			}
			if from == to {
				fmt.Fprintf(a.stdout, "schema is at version %d, the newest; nothing to do\n", to)
			} else {
				fmt.Fprintf(a.stdout, "schema migrated from version %d to %d\n", from, to)
			}
			return nil
		},
	}
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create a new, empty archive where --data (or --database, --blobs) says",
		Long: `Creates the archive: the SQLite data directory and its database, or the
archive's tables in the PostgreSQL database's search path, with content kept
where --blobs says. Every other command works on an existing archive only and
refuses a place that holds none, so that a mistyped path cannot start a new,
empty archive. init refuses a place that holds an archive already.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := a.storageConfig()
			st, err := storage.Create(cmd.Context(), cfg)
			if err != nil {
				return fmt.Errorf("init: %w", err)
			}
			if err := st.Close(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "created an empty archive (%s); next: arkisto admin trust add, org add, system add\n", cfg.Describe())
			return nil
		},
	}
	cmd.AddCommand(initCmd, a.trustCmd(), a.orgCmd(), a.registerCmd(), a.archivistCmd(), a.guardianCmd(), a.systemCmd(), a.crlCmd(), migrate, a.backupCmd(), a.restoreCmd(), a.verifyCmd(), a.logCmd())
	return cmd
}

// withStore opens the archive's store for an admin command.
func (a *app) withStore(ctx context.Context, fn func(archive.Store) error) error {
	_, st, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// withAdmin opens the archive for an administrative change.
func (a *app) withAdmin(ctx context.Context, fn func(*archive.Admin) error) error {
	return a.withStore(ctx, func(st archive.Store) error { return fn(archive.NewAdmin(st, a.logger)) })
}

func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := pki.ParseCerts(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

func (a *app) trustCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "trust", Short: "Trust anchors for document signatures and TLS clients"}
	var caFile string
	add := &cobra.Command{
		Use:   "add --ca FILE",
		Short: "Trust a CA certificate (PEM or DER; every certificate in the file)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if caFile == "" {
				return errors.New("--ca: a CA certificate file is required")
			}
			certs, err := readCerts(caFile)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				for _, c := range certs {
					added, err := adm.AddTrustAnchor(ctx, c)
					if err != nil {
						return err
					}
					state := "added"
					if !added {
						state = "already trusted"
					}
					fmt.Fprintf(a.stdout, "%s: %s (valid until %s)\n", state, c.Subject, c.NotAfter.Format("2006-01-02"))
				}
				return nil
			})
		},
	}
	add.Flags().StringVar(&caFile, "ca", "", "CA certificate file")
	list := &cobra.Command{
		Use:   "list",
		Short: "List trust anchors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st archive.Store) error {
				return st.View(ctx, func(tx archive.Tx) error {
					certs, err := tx.TrustAnchors(ctx)
					tw := a.table(cmd)
					fmt.Fprintln(tw, "SUBJECT\tVALID UNTIL")
					for _, c := range certs {
						fmt.Fprintf(tw, "%s\t%s\n", c.Subject, c.NotAfter.Format("2006-01-02"))
					}
					tw.Flush()
					return err
				})
			})
		},
	}
	cmd.AddCommand(add, jsonFlag(list))
	return cmd
}

func (a *app) systemCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "system", Short: "Registered client information systems"}
	var orgOID, name, certFile string
	add := &cobra.Command{
		Use:   "add --org OID --name NAME --cert FILE",
		Short: "Register a client information system and its certificate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := oid.Check(orgOID); err != nil {
				return fmt.Errorf("--org: %w", err)
			}
			if name == "" {
				return errors.New("--name: the system's name is required")
			}
			if certFile == "" {
				return errors.New("--cert: the system's certificate file is required")
			}
			certs, err := readCerts(certFile)
			if err != nil {
				return err
			}
			cert := certs[0]
			if time.Now().After(cert.NotAfter) {
				return fmt.Errorf("--cert: the certificate expired on %s", cert.NotAfter.Format("2006-01-02"))
			}
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				err := adm.AddSystem(ctx, &archive.System{Name: name, Organisation: orgOID, Cert: cert})
				if errors.Is(err, archive.ErrNotFound) {
					return fmt.Errorf("--org: organisation %s is not onboarded; run arkisto admin org add first", orgOID)
				}
				if err == nil {
					fmt.Fprintf(a.stdout, "system %q of %s registered with certificate %s\n", name, orgOID, cert.Subject)
				}
				return err
			})
		},
	}
	add.Flags().StringVar(&orgOID, "org", "", "OID of the organisation that runs the system")
	add.Flags().StringVar(&name, "name", "", "system name")
	add.Flags().StringVar(&certFile, "cert", "", "the system's certificate (PEM or DER)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List registered systems",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st archive.Store) error {
				return st.View(ctx, func(tx archive.Tx) error {
					systems, err := tx.Systems(ctx)
					tw := a.table(cmd)
					fmt.Fprintln(tw, "NAME\tORGANISATION\tCERTIFICATE\tVALID UNTIL")
					for _, s := range systems {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Organisation, s.Cert.Subject.CommonName, s.Cert.NotAfter.Format("2006-01-02"))
					}
					tw.Flush()
					return err
				})
			})
		},
	}
	var revokeName string
	revoke := &cobra.Command{
		Use:   "revoke --name NAME",
		Short: "Revoke a system's certificate: its connections are refused from now on",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if revokeName == "" {
				return errors.New("--name: the system to revoke is required")
			}
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				err := adm.RevokeSystem(ctx, revokeName)
				if errors.Is(err, archive.ErrNotFound) {
					return fmt.Errorf("--name: no registered system %q", revokeName)
				}
				if err == nil {
					fmt.Fprintf(a.stdout, "system %q revoked; its certificate is refused within seconds\n", revokeName)
				}
				return err
			})
		},
	}
	revoke.Flags().StringVar(&revokeName, "name", "", "system name")
	cmd.AddCommand(add, jsonFlag(list), revoke)
	return cmd
}

func (a *app) crlCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "crl", Short: "Certificate revocation lists of trusted CAs"}
	var crlFile string
	add := &cobra.Command{
		Use:   "add --crl FILE",
		Short: "Import a CRL (PEM or DER) signed by a trusted CA; its revoked certificates are refused",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if crlFile == "" {
				return errors.New("--crl: a CRL file is required")
			}
			data, err := os.ReadFile(crlFile)
			if err != nil {
				return err
			}
			crl, err := pki.ParseCRL(data)
			if err != nil {
				return fmt.Errorf("--crl: %w", err)
			}
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				issuer, added, err := adm.ImportCRL(ctx, crl)
				if errors.Is(err, archive.ErrCRLUntrusted) {
					return errors.New("--crl: the CRL is not signed by a trusted CA (arkisto admin trust add)")
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "CRL of %s: %d revoked certificates, %d new\n", issuer.Subject, len(crl.RevokedCertificateEntries), added)
				return nil
			})
		},
	}
	add.Flags().StringVar(&crlFile, "crl", "", "CRL file")
	cmd.AddCommand(add)
	return cmd
}

// progress shows a count of documents on stderr (internal/progress); the
// returned function reports the count so far, and done ends the display.
func (a *app) progress(what string) (report func(int), done func()) {
	bar := progress.New(a.stderr, what, 0, "docs")
	return func(n int) { bar.Set(int64(n)) }, bar.Finish
}

func (a *app) backupCmd() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "backup --to DIR",
		Short: "Take a consistent online backup (the archive may keep taking writes)",
		Long: `Writes every document (with its content, hash-checked), the access log and
the configuration, as of one moment, into DIR in a backend-neutral format:
a backup of SQLite restores into PostgreSQL and the other way round.
manifest.json is written last; a directory without it is not a backup.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return errors.New("--to: a backup directory is required")
			}
			ctx := cmd.Context()
			return a.withStore(ctx, func(st archive.Store) error {
				report, done := a.progress("backing up")
				m, err := backup.Backup(ctx, st, a.storageConfig().Describe(), to, report)
				done()
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "backup in %s: %s (%s of content), %s, %s, %s\n",
					to, progress.Plural(m.Counts["documents"], "document", "documents"), progress.Size(m.ContentBytes),
					progress.Plural(m.Counts["access_log"], "access-log entry", "access-log entries"),
					progress.Plural(m.Counts["organisations"], "organisation", "organisations"), progress.Plural(m.Counts["systems"], "system", "systems"))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "backup directory (new or empty)")
	return cmd
}

func (a *app) restoreCmd() *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "restore --from DIR",
		Short: "Restore a backup into an empty archive (the one --data/--database/--blobs name)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return errors.New("--from: the backup directory is required")
			}
			ctx := cmd.Context()
			return a.withStore(ctx, func(st archive.Store) error {
				report, done := a.progress("restoring")
				m, err := backup.Restore(ctx, from, st, report)
				done()
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "restored %s and %s from the backup of %s taken %s\n",
					progress.Plural(m.Counts["documents"], "document", "documents"), progress.Plural(m.Counts["access_log"], "access-log entry", "access-log entries"), m.Source, m.Created.Format(time.RFC3339))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "backup directory")
	return cmd
}

func (a *app) verifyCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check every document's content against its hash and metadata",
		Long: `Reads every stored version's content and checks that it exists, that its
SHA-256 and size are what the metadata says, that each set has at most one
current version, and that every version has the access-log entry of its
archiving. Exit status 1 when anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st archive.Store) error {
				report, done := a.progress("verifying")
				rep, err := backup.Verify(ctx, st, report)
				done()
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(a.stdout)
					enc.SetIndent("", "  ")
					enc.SetEscapeHTML(false) // for people and scripts, not for a web page
					if err := enc.Encode(rep); err != nil {
						return err
					}
				} else {
					for _, f := range rep.Findings {
						fmt.Fprintf(a.stdout, "%s: %s\n", f.Document, f.Problem)
					}
					fmt.Fprintln(a.stdout, rep.String())
				}
				if !rep.OK() {
					return exitError{1}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
