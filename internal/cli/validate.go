package cli

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

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
	var trustFiles, crlFiles []string
	var asJSON bool
	var maxBytes int64
	cmd := &cobra.Command{
		Use:   "validate [--trust-ca FILE]... [--crl FILE]... FILE...",
		Short: "Check documents as the archive would: structure, fields and signatures",
		Long: `Reads each CDA document, prints its metadata summary or every field-level
error, and says for each signature whether it is cryptographically valid and
whether its signer chains to a given CA (--trust-ca, repeatable; the archive's
own trust anchors are used too when the data directory holds an archive).
A signature whose certificate a CRL revokes (--crl, repeatable, signed by a
given CA; and the archive's imported CRLs) is refused, whatever its time.

Exit status 0 only when every document is structurally acceptable and all its
signatures are cryptographically valid; 1 otherwise.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			roots, revoked, err := a.validationTrust(cmd.Context(), trustFiles, crlFiles)
			if err != nil {
				return err
			}
			ok := true
			var results []validateResult
			for _, f := range files {
				r := validateFile(f, roots, revoked, maxBytes)
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
				enc.SetEscapeHTML(false) // for people and scripts, not for a web page
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
	cmd.Flags().StringArrayVar(&crlFiles, "crl", nil, "PEM or DER CRL of a given CA: signatures by the certificates it revokes are refused (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	cmd.Flags().Int64Var(&maxBytes, "max-bytes", xmlsafe.DefaultMaxBytes, "document size limit in bytes")
	a.storageFlags(cmd.Flags())
	return cmd
}

// validationTrust combines --trust-ca files with the archive's anchors, and
// --crl files with the archive's revocations, if an archive exists in the
// data directory. Nothing is created.
func (a *app) validationTrust(ctx context.Context, files, crlFiles []string) (*x509.CertPool, map[string]time.Time, error) {
	var pool *x509.CertPool
	var anchors []*x509.Certificate
	revoked := map[string]time.Time{}
	add := func(c *x509.Certificate) {
		if pool == nil {
			pool = x509.NewCertPool()
		}
		pool.AddCert(c)
		anchors = append(anchors, c)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		certs, err := pki.ParseCerts(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, c := range certs {
			add(c)
		}
	}
	st, err := storage.Open(ctx, a.storageConfig())
	switch {
	case errors.Is(err, storage.ErrNoArchive):
		// No archive to take trust anchors and revocations from: the
		// --trust-ca and --crl files only.
	case err != nil:
		return nil, nil, err
	default:
		defer st.Close()
		err = st.View(ctx, func(tx archive.Tx) error {
			certs, err := tx.TrustAnchors(ctx)
			if err != nil {
				return err
			}
			for _, c := range certs {
				add(c)
			}
			list, err := tx.RevokedCerts(ctx)
			for k, at := range archive.RevocationIndex(list) {
				revoked[k] = at
			}
			return err
		})
		if err != nil {
			return nil, nil, err
		}
	}
	for _, f := range crlFiles {
		if err := readCRL(f, anchors, revoked); err != nil {
			return nil, nil, err
		}
	}
	return pool, revoked, nil
}

// readCRL adds a CRL's revocations once its signature checks out against
// one of the anchors: an unsigned list could make any signer look revoked.
func readCRL(file string, anchors []*x509.Certificate, into map[string]time.Time) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if b, _ := pem.Decode(data); b != nil {
		data = b.Bytes
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return fmt.Errorf("--crl %s: not a CRL: %w", file, err)
	}
	signed := false
	for _, c := range anchors {
		signed = signed || crl.CheckSignatureFrom(c) == nil
	}
	if !signed {
		return fmt.Errorf("--crl %s: the CRL is not signed by a CA given with --trust-ca or trusted by the archive", file)
	}
	sum := sha256.Sum256(crl.RawIssuer)
	issuer := hex.EncodeToString(sum[:])
	for _, e := range crl.RevokedCertificateEntries {
		into[issuer+"|"+e.SerialNumber.Text(16)] = e.RevocationTime.UTC()
	}
	return nil
}

func validateFile(path string, roots *x509.CertPool, revoked map[string]time.Time, maxBytes int64) validateResult {
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
	rep := (&xmldsig.Verifier{Roots: roots, Revoked: archive.RevocationLookup(revoked)}).Verify(doc)
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
	// What binds the signatures and the signed content to the header. The
	// system signer's binding to the submitter is checked on archiving.
	r.Problems = append(r.Problems, archive.Binding(doc, rep)...)
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
			case s.Problems.Has(xmldsig.RuleRevoked):
				fmt.Fprintf(w, "                signer's certificate REVOKED by a CRL\n")
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
