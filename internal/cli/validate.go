package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/problem"
	"github.com/arkisto/arkisto/internal/storage"
	"github.com/arkisto/arkisto/internal/xmldsig"
	"github.com/arkisto/arkisto/internal/xmlsafe"
)

type validateResult struct {
	File       string           `json:"file"`
	Acceptable bool             `json:"acceptable"`
	Problems   problem.List     `json:"problems,omitempty"`
	Header     *cda.Header      `json:"header,omitempty"`
	Signatures []xmldsig.Result `json:"signatures,omitempty"`
	report     *xmldsig.Report
}

func (a *app) validateCmd() *cobra.Command {
	var trustFiles []string
	var asJSON bool
	var maxBytes int64
	cmd := &cobra.Command{
		Use:   "validate [--trust-ca FILE]... FILE...",
		Short: "Check documents as the archive would: structure, fields and signatures",
		Long: `Reads each CDA document, prints its metadata summary or every field-level
error, and says for each signature whether it is cryptographically valid and
whether its signer chains to a given CA (--trust-ca, repeatable; the archive's
own trust anchors are used too when the data directory holds an archive).

Exit status 0 only when every document is structurally acceptable and all its
signatures are cryptographically valid; 1 otherwise.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			roots, err := a.validationRoots(cmd.Context(), trustFiles)
			if err != nil {
				return err
			}
			ok := true
			var results []validateResult
			for _, f := range files {
				r := validateFile(f, roots, maxBytes)
				if !r.Acceptable {
					ok = false
				}
				if asJSON {
					results = append(results, r)
				} else {
					printValidation(a.stdout, &r, roots != nil)
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(results); err != nil {
					return err
				}
			}
			if !ok {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&trustFiles, "trust-ca", nil, "PEM or DER certificate(s) of a CA to check signer chains against (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	cmd.Flags().Int64Var(&maxBytes, "max-bytes", xmlsafe.DefaultMaxBytes, "document size limit in bytes")
	return cmd
}

// validationRoots combines --trust-ca files with the archive's anchors, if
// an archive exists in the data directory. Nothing is created.
func (a *app) validationRoots(ctx context.Context, files []string) (*x509.CertPool, error) {
	var pool *x509.CertPool
	add := func(c *x509.Certificate) {
		if pool == nil {
			pool = x509.NewCertPool()
		}
		pool.AddCert(c)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		certs, err := pki.ParseCerts(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, c := range certs {
			add(c)
		}
	}
	st, err := storage.Open(ctx, a.storageConfig())
	switch {
	case errors.Is(err, storage.ErrNoArchive):
		// No archive to take trust anchors from: --trust-ca only.
		return pool, nil
	case err != nil:
		return nil, err
	}
	defer st.Close()
	err = st.View(ctx, func(tx archive.Tx) error {
		certs, err := tx.TrustAnchors(ctx)
		for _, c := range certs {
			add(c)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return pool, nil
}

func validateFile(path string, roots *x509.CertPool, maxBytes int64) validateResult {
	r := validateResult{File: path}
	data, err := readLimited(path, maxBytes)
	if err != nil {
		r.Problems.Add(xmlsafe.RuleTooLarge, "/", "%v", err)
		return r
	}
	doc, probs := cda.Read(data, cda.Options{MaxBytes: maxBytes})
	r.Problems = probs
	if doc == nil {
		return r
	}
	h := doc.Header
	r.Header = &h
	rep := (&xmldsig.Verifier{Roots: roots}).Verify(doc)
	r.report = rep
	r.Signatures = rep.Signatures
	for i := range r.Signatures {
		r.Signatures[i].Certificate = nil
	}
	r.Problems = append(r.Problems, rep.Document...)
	for _, s := range rep.Signatures {
		for _, p := range s.Problems {
			// Without a trust anchor the chain is not judged here.
			if p.Code == xmldsig.RuleChain || p.Code == xmldsig.RuleCertValidity {
				continue
			}
			r.Problems = append(r.Problems, p)
		}
	}
	r.Acceptable = len(r.Problems) == 0 && rep.CryptoValid()
	return r
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("file is larger than the limit of %d bytes", max)
	}
	return data, nil
}

func printValidation(w io.Writer, r *validateResult, haveRoots bool) {
	verdict := "ACCEPTABLE"
	if !r.Acceptable {
		verdict = "NOT ACCEPTABLE"
	}
	fmt.Fprintf(w, "%s: %s\n", r.File, verdict)
	if h := r.Header; h != nil && h.ID != "" {
		client := h.Client.ID.Root
		if h.Client.ID.Root == hetu.OIDRoot {
			client += " " + hetu.Mask(h.Client.ID.Extension)
		}
		fmt.Fprintf(w, "  document       %s version %d (set %s)\n", h.ID, h.Version, h.SetID)
		fmt.Fprintf(w, "  effective      %s\n", h.EffectiveTime.Format("2006-01-02 15:04:05 -0700"))
		fmt.Fprintf(w, "  client         %s\n", client)
		fmt.Fprintf(w, "  custodian      %s %s\n", h.Custodian.OID, h.Custodian.Name)
		fmt.Fprintf(w, "  register       %s  group %s  service task %s\n", h.Register.Code, h.DocumentGroup.Code, orDash(h.ServiceTask.Code))
		fmt.Fprintf(w, "  type           %s / %s %s\n", orDash(h.GeneralType.Code), orDash(h.SpecificType.Code), h.SpecificType.Display)
		if h.Case.ID != "" {
			fmt.Fprintf(w, "  case           %s  unit %s\n", h.Case.ID, h.Case.ServiceUnit.OID)
		}
		if h.ClientRelationshipID != "" {
			fmt.Fprintf(w, "  relationship   %s\n", h.ClientRelationshipID)
		}
		if h.Replaces != nil {
			fmt.Fprintf(w, "  replaces       %s version %d\n", h.Replaces.ID, h.Replaces.Version)
		}
	}
	if r.report != nil {
		for _, s := range r.report.Signatures {
			fmt.Fprintf(w, "  signature %d   %s, signer %s (%s)\n", s.Index, cryptoVerdict(s), orDash(s.SignerID), s.SignerName)
			switch {
			case !haveRoots:
				fmt.Fprintf(w, "                chain not checked: no --trust-ca given\n")
			case s.Trusted:
				fmt.Fprintf(w, "                chains to a trusted CA (judged at %s)\n", s.Timestamp.UTC().Format("2006-01-02T15:04:05Z"))
			default:
				fmt.Fprintf(w, "                does NOT chain to a given CA\n")
			}
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  error %s at %s: %s\n", p.Code, p.Path, p.Message)
	}
}

func cryptoVerdict(s xmldsig.Result) string {
	if !s.Valid {
		return "cryptographically INVALID"
	}
	return fmt.Sprintf("%s, cryptographically valid (%s form)", s.Type, s.Form)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
