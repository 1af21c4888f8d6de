package archive

import (
	"context"
	"fmt"

	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
)

// Decision is an access decision with its grounds, which go into the log.
type Decision struct {
	Allowed bool
	Reason  string
}

func allow(format string, args ...any) Decision {
	return Decision{Allowed: true, Reason: fmt.Sprintf(format, args...)}
}

func deny(format string, args ...any) Decision {
	return Decision{Allowed: false, Reason: fmt.Sprintf(format, args...)}
}

// Policy is the one place that decides who may do what. Every operation of
// the Service asks it; doors never decide.
type Policy interface {
	// Write decides whether the caller may archive a document with this
	// header (a new document or a replacement) or nullify one.
	Write(ctx context.Context, tx Tx, c Caller, h *cda.Header) Decision
	// Read decides whether the caller may use an archived version.
	Read(ctx context.Context, tx Tx, c Caller, r *Record) Decision
	// Scope says which documents a search by the caller may return.
	Scope(ctx context.Context, tx Tx, c Caller) (Scope, Decision)
}

// OwnRegister is the starting policy: a caller may use only documents whose
// custodian is the caller's own organisation, for the controller's own use
// of its register (usage situation 1). Registered systems are checked by the
// doors that authenticate them.
type OwnRegister struct{}

func (OwnRegister) purpose(c Caller) (Decision, bool) {
	if c.Purpose != codes.UsageOwnRegister {
		return deny("usage situation %q is not supported; only %s (the controller's own use of its register) is", c.Purpose, codes.UsageOwnRegister), false
	}
	return Decision{}, true
}

func (p OwnRegister) Write(ctx context.Context, tx Tx, c Caller, h *cda.Header) Decision {
	if d, ok := p.purpose(c); !ok {
		return d
	}
	if h.Custodian.OID != c.Organisation {
		return deny("the document's custodian %s is not the caller's organisation %s", h.Custodian.OID, c.Organisation)
	}
	return allow("own register: custodian %s is the caller's organisation", h.Custodian.OID)
}

func (p OwnRegister) Read(ctx context.Context, tx Tx, c Caller, r *Record) Decision {
	if d, ok := p.purpose(c); !ok {
		return d
	}
	if r.Header.Custodian.OID != c.Organisation {
		return deny("the document's custodian is not the caller's organisation %s", c.Organisation)
	}
	return allow("own register: custodian %s is the caller's organisation", c.Organisation)
}

func (p OwnRegister) Scope(ctx context.Context, tx Tx, c Caller) (Scope, Decision) {
	if d, ok := p.purpose(c); !ok {
		return Scope{}, d
	}
	return Scope{Custodians: []string{c.Organisation}}, allow("own register: documents whose custodian is %s", c.Organisation)
}
