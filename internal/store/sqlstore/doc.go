// Package sqlstore holds what the SQL storage backends (internal/store/sqlite
// and internal/store/postgres) share whatever their dialect: resolving and
// checking content, the blob-store setting, encoding and decoding stored
// records and access-log entries, and translating a search, its scope and
// an access-log query into SQL conditions. Each backend keeps its own
// statements, one file per entity; what is here must not differ between
// them, since one behaviour suite proves them the same.
package sqlstore
