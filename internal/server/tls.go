package server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/arkisto/arkisto/internal/auth"
)

// TLSConfig is the listener's TLS: TLS 1.2+, and a client certificate
// asked for but not required, since each door has its own rule (the FHIR
// door and the archivist UI require one, a citizen's view will not). A
// certificate that is presented is verified in the handshake against the
// live trust store (anchors and revocations as they are now, not at
// start-up): it must chain to a trust anchor for client authentication,
// be valid and unrevoked, or the handshake fails and the refusal is logged.
//
// This is tls.VerifyClientCertIfGiven's rule, but checked in
// VerifyConnection: that mode verifies against a fixed ClientCAs pool,
// while the trust anchors change while the server runs.
func TLSConfig(reg *auth.Registry, cert tls.Certificate, log *slog.Logger) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return nil // the door decides
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			snap, err := reg.Snapshot(ctx)
			if err != nil {
				return err
			}
			if err := snap.VerifyChain(cs.PeerCertificates, time.Now()); err != nil {
				log.Info("client certificate refused", "reason", err.Error())
				return err
			}
			return nil
		},
	}
}
