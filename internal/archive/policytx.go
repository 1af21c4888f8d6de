package archive

import "context"

// onceOrgTx answers a PolicyTx's Organisation from the first answer for
// that organisation within one transaction. A read asks the policy twice
// (Caller, then Read, which checks the caller again); the second lookup
// of the caller's organisation found what the first did in the same
// transaction and cost a read about a tenth of its store time
// (docs/benchmarks.md, issue 16). Errors are not kept: they are asked
// again.
type onceOrgTx struct {
	PolicyTx
	oid string
	org *Organisation
}

func (t *onceOrgTx) Organisation(ctx context.Context, oid string) (*Organisation, error) {
	if t.org != nil && t.oid == oid {
		return t.org, nil
	}
	o, err := t.PolicyTx.Organisation(ctx, oid)
	if err == nil && o != nil {
		t.oid, t.org = oid, o
	}
	return o, err
}

// onceOrgWriteTx is a write transaction whose Organisation answers from
// the first answer for that organisation (onceOrgTx): archiving looks up
// the custodian (checkRegister) and then the caller (Policy.Write), the
// same organisation when a register's own system archives, each a round
// trip to the store.
type onceOrgWriteTx struct {
	Tx
	orgs onceOrgTx
}

func newOnceOrgWriteTx(tx Tx) *onceOrgWriteTx {
	return &onceOrgWriteTx{Tx: tx, orgs: onceOrgTx{PolicyTx: tx}}
}

func (t *onceOrgWriteTx) Organisation(ctx context.Context, oid string) (*Organisation, error) {
	return t.orgs.Organisation(ctx, oid)
}
