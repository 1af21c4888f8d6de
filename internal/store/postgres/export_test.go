package postgres

import "github.com/jackc/pgx/v5"

// WithTracer is o with a tracer that sees every statement the store sends.
func WithTracer(o Options, t pgx.QueryTracer) Options {
	o.tracer = t
	return o
}
