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
