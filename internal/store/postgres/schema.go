package postgres

// migrations are applied in order, each once, forward only, each in its own
// transaction under an advisory lock. Never edit one that has shipped.
//
// The schema is laid out for Citus (docs/scaling.md): tables about a client
// are distributed by client_key and every unique constraint on them
// includes it; lookups by document or set id go through small tables
// distributed by that id; configuration tables are reference tables.
var migrations = []string{
	// 1: the archive core.
	`
-- Reference tables (replicated to every node under Citus).
CREATE TABLE organisations (
	oid      text PRIMARY KEY,
	name     text NOT NULL,
	kind     text NOT NULL CHECK (kind IN ('public', 'private')),
	added_at timestamptz NOT NULL
);

CREATE TABLE systems (
	name        text PRIMARY KEY,
	org_oid     text NOT NULL REFERENCES organisations (oid),
	cert_sha256 text NOT NULL UNIQUE,
	cert_der    bytea NOT NULL,
	added_at    timestamptz NOT NULL
);

CREATE TABLE trust_anchors (
	sha256   text PRIMARY KEY,
	subject  text NOT NULL,
	der      bytea NOT NULL,
	added_at timestamptz NOT NULL
);

-- Distributed by client_key: a client's documents, content and access log
-- live on one shard and commit together.
CREATE TABLE blobs (
	client_key text NOT NULL,
	sha256     text NOT NULL,
	size       bigint NOT NULL,
	data       bytea, -- NULL when the content is in an external blob store
	PRIMARY KEY (client_key, sha256)
);

CREATE TABLE documents (
	client_key          text NOT NULL,
	doc_id              text NOT NULL,
	set_id              text NOT NULL,
	version             integer NOT NULL CHECK (version >= 1),
	status              text NOT NULL CHECK (status IN ('current', 'superseded', 'nullified')),
	custodian           text NOT NULL,
	register            text NOT NULL,
	service_task        text NOT NULL DEFAULT '',
	general_type        text NOT NULL DEFAULT '',
	specific_type       text NOT NULL DEFAULT '',
	document_group      text NOT NULL,
	case_id             text NOT NULL DEFAULT '',
	client_relationship text NOT NULL DEFAULT '',
	service_unit        text NOT NULL DEFAULT '',
	service_process     text NOT NULL DEFAULT '',
	case_opened         timestamptz,
	case_closed         timestamptz,
	effective_at        timestamptz NOT NULL,
	replaces            text NOT NULL DEFAULT '',
	content_sha256      text NOT NULL,
	content_size        bigint NOT NULL,
	record              jsonb NOT NULL,
	received_at         timestamptz NOT NULL,
	submitter_system    text NOT NULL,
	submitter_org       text NOT NULL,
	PRIMARY KEY (client_key, doc_id),
	UNIQUE (client_key, set_id, version),
	FOREIGN KEY (client_key, content_sha256) REFERENCES blobs (client_key, sha256)
);
CREATE INDEX documents_client_time ON documents (client_key, effective_at DESC, doc_id DESC);
CREATE INDEX documents_custodian_time ON documents (custodian, effective_at DESC, doc_id DESC);
CREATE INDEX documents_case ON documents (client_key, case_id) WHERE case_id <> '';

CREATE TABLE nullifications (
	client_key  text NOT NULL,
	doc_id      text NOT NULL,
	reason_code text NOT NULL,
	reason_text text NOT NULL,
	by_caller   jsonb NOT NULL,
	at          timestamptz NOT NULL,
	PRIMARY KEY (client_key, doc_id),
	FOREIGN KEY (client_key, doc_id) REFERENCES documents (client_key, doc_id)
);

CREATE TABLE access_log (
	client_key    text NOT NULL,
	id            bigserial,
	at            timestamptz NOT NULL,
	custodian     text NOT NULL DEFAULT '',
	action        text NOT NULL,
	outcome       text NOT NULL CHECK (outcome IN ('allowed', 'refused')),
	reason        text NOT NULL,
	caller_system text NOT NULL,
	caller_org    text NOT NULL,
	caller        jsonb NOT NULL,
	documents     jsonb NOT NULL,
	details       text NOT NULL DEFAULT '',
	PRIMARY KEY (client_key, id)
);

-- Distributed by their own key: a document id and a set id are unique
-- archive-wide, and these say which client (and so which shard) holds them.
CREATE TABLE document_ids (
	doc_id     text PRIMARY KEY,
	client_key text NOT NULL
);

CREATE TABLE document_sets (
	set_id     text PRIMARY KEY,
	client_key text NOT NULL
);
`,
	// 2: revocation of system certificates, and the store's own settings.
	`
ALTER TABLE systems ADD COLUMN revoked_at timestamptz;

-- Certificates revoked by an imported CRL (reference table): issuer is the
-- SHA-256 of the raw issuer name, serial the hex serial number.
CREATE TABLE revoked_certificates (
	issuer     text NOT NULL,
	serial     text NOT NULL,
	revoked_at timestamptz NOT NULL,
	PRIMARY KEY (issuer, serial)
);

CREATE TABLE settings (
	key   text PRIMARY KEY,
	value text NOT NULL
);
`,
	// 3: registers, client relationships and the access rights they grant,
	// register transfers, archivists; organisations' full details.
	`
ALTER TABLE organisations
	ADD COLUMN name_sv text NOT NULL DEFAULT '',
	ADD COLUMN name_en text NOT NULL DEFAULT '',
	ADD COLUMN business_id text NOT NULL DEFAULT '',
	ADD COLUMN parent text NOT NULL DEFAULT '',
	ADD COLUMN active_from timestamptz,
	ADD COLUMN active_to timestamptz;

-- Reference table.
CREATE TABLE registers (
	controller     text NOT NULL,
	type           text NOT NULL,
	added_at       timestamptz NOT NULL,
	transferred_to text NOT NULL DEFAULT '',
	transferred_at timestamptz,
	PRIMARY KEY (controller, type)
);
-- Organisations onboarded before registers existed get a client register.
INSERT INTO registers (controller, type, added_at) SELECT oid, '1', added_at FROM organisations;

-- The controller whose register holds a version now (the custodian until
-- the register is transferred).
ALTER TABLE documents ADD COLUMN controller text NOT NULL DEFAULT '';
UPDATE documents SET controller = custodian;
CREATE INDEX documents_controller_time ON documents (controller, effective_at DESC, doc_id DESC);
CREATE INDEX documents_controller_register ON documents (controller, register, doc_id);

-- Distributed by client_key, colocated with documents.
CREATE TABLE relationships (
	client_key text NOT NULL,
	id         text NOT NULL,
	organiser  text NOT NULL,
	start_day  date,
	end_day    date,
	document   text NOT NULL,
	stated     jsonb NOT NULL DEFAULT '{}', -- what the document says
	PRIMARY KEY (client_key, id)
);
CREATE INDEX relationships_organiser ON relationships (organiser);

CREATE TABLE relationship_grants (
	client_key      text NOT NULL,
	relationship_id text NOT NULL,
	organiser       text NOT NULL,
	provider        text NOT NULL,
	unit            text NOT NULL,
	service_task    text NOT NULL,
	start_day       date,
	end_day         date,
	PRIMARY KEY (client_key, relationship_id, service_task, unit),
	FOREIGN KEY (client_key, relationship_id) REFERENCES relationships (client_key, id) ON DELETE CASCADE
);
CREATE INDEX relationship_grants_provider ON relationship_grants (client_key, provider);

-- Reference tables.
CREATE TABLE transfers (
	id              bigserial PRIMARY KEY,
	from_controller text NOT NULL,
	to_controller   text NOT NULL,
	register_type   text NOT NULL,
	effective       timestamptz NOT NULL,
	started_at      timestamptz NOT NULL,
	finished_at     timestamptz,
	last_doc        text NOT NULL DEFAULT '',
	moved           integer NOT NULL DEFAULT 0,
	total           integer NOT NULL DEFAULT 0
);

CREATE TABLE archivists (
	person     text NOT NULL,
	name       text NOT NULL DEFAULT '',
	controller text NOT NULL,
	added_at   timestamptz NOT NULL,
	PRIMARY KEY (person, controller)
);
`,
	// 4: records kept as json, not jsonb. The archive writes and reads a
	// record whole and never queries inside it, and jsonb costs a parse
	// on every write and a conversion back to text on every read: most
	// of PostgreSQL's own work in a client's document list. Records and
	// content are compressed with lz4 where the server has it (it
	// compresses signed XML about as well as the default pglz, at a
	// fraction of the CPU on every archive and every fetch).
	`
ALTER TABLE documents ALTER COLUMN record TYPE json USING record::json;
DO $$
BEGIN
	EXECUTE 'ALTER TABLE documents ALTER COLUMN record SET COMPRESSION lz4';
	EXECUTE 'ALTER TABLE blobs ALTER COLUMN data SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR syntax_error THEN
	RAISE NOTICE 'lz4 compression is not available; keeping the default';
END
$$;
`,
	// 5: a client relationship belongs to its organiser: relationships and
	// the grants they make are keyed by organiser too, so that another
	// organiser's document with the same client and relationship id can
	// never replace or withdraw them. The grants' foreign key goes: the
	// store writes and withdraws a relationship and its grants together,
	// and a register transfer changes the organiser of both.
	`
ALTER TABLE relationship_grants DROP CONSTRAINT relationship_grants_client_key_relationship_id_fkey;
ALTER TABLE relationship_grants DROP CONSTRAINT relationship_grants_pkey;
ALTER TABLE relationships DROP CONSTRAINT relationships_pkey;
ALTER TABLE relationships ADD PRIMARY KEY (client_key, organiser, id);
ALTER TABLE relationship_grants ADD PRIMARY KEY (client_key, organiser, relationship_id, service_task, unit);
`,
	// 6: the token ledger: the replay keys of accepted bearer tokens until
	// they expire, so that every server on the archive refuses a second
	// use of a token (archive.TokenLedger).
	`
CREATE TABLE used_tokens (
	token_key  bytea PRIMARY KEY,
	expires_us bigint NOT NULL
);
CREATE INDEX used_tokens_expiry ON used_tokens (expires_us);
`,
	// 7: clients' will expressions and the disclosure log. Both are
	// append-only: a withdrawal is a row of its own beside the expression
	// it ends (its primary key lets only the first one in), and nothing
	// is ever updated. The bodies are the whole JSON (json, not jsonb: the
	// archive never queries inside them); the other columns are what the
	// archive selects and orders by.
	`
-- Distributed by id (an expression's id is unique archive-wide), the
-- withdrawals colocated with the expressions; a client's history is read
-- through the client index.
CREATE TABLE will_expressions (
	id          text PRIMARY KEY,
	client_key  text NOT NULL,
	kind        text NOT NULL,
	recorded_at timestamptz NOT NULL,
	body        json NOT NULL -- consent.Expression without its withdrawal
);
CREATE INDEX will_expressions_client ON will_expressions (client_key, recorded_at, id);

CREATE TABLE will_withdrawals (
	id         text PRIMARY KEY REFERENCES will_expressions (id), -- the expression's
	client_key text NOT NULL,
	at         timestamptz NOT NULL,
	body       json NOT NULL -- consent.Withdrawal
);

-- Distributed by client_key, colocated with documents, as the access log.
CREATE TABLE disclosures (
	client_key text NOT NULL,
	id         bigserial,
	at         timestamptz NOT NULL,
	discloser  text NOT NULL,
	recipient  text NOT NULL,
	source     text NOT NULL,
	body       json NOT NULL, -- archive.Disclosure
	PRIMARY KEY (client_key, id)
);
CREATE INDEX disclosures_id ON disclosures (id);
CREATE INDEX disclosures_discloser ON disclosures (discloser, id);
CREATE INDEX disclosures_recipient ON disclosures (recipient, id);
`,
	// 8: IHE MHD ITI-67 search (issue 15): when a version's metadata last
	// changed (meta.lastUpdated, _lastUpdated), the author's folded names
	// (author.family, author.given), the confidentiality code
	// (security-label), the display form format (format), and the client's
	// FHIR Patient id (archive.PatientID). The author terms and Patient ids
	// of versions archived before this migration are filled in by the store
	// on open (search_terms false until then): the names are folded as
	// archive.FoldName does, which SQL cannot, and the id needs the
	// archive's secret.
	`
ALTER TABLE documents ADD COLUMN updated_at timestamptz;
ALTER TABLE documents ADD COLUMN author_family text NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN author_given text NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN confidentiality text NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN display_format text NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN patient_id text NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN search_terms boolean NOT NULL DEFAULT false;
CREATE INDEX documents_patient ON documents (patient_id);
CREATE INDEX documents_replaces ON documents (client_key, replaces) WHERE replaces <> '';
CREATE INDEX documents_search_terms_pending ON documents (doc_id) WHERE NOT search_terms;
-- Until now a version changed when archived, when its replacement was
-- archived and when nullified; a register transfer's time is not known.
UPDATE documents d SET
	updated_at = GREATEST(d.received_at,
		(SELECT n.at FROM nullifications n WHERE n.client_key = d.client_key AND n.doc_id = d.doc_id),
		(SELECT MAX(r.received_at) FROM documents r WHERE r.client_key = d.client_key AND r.replaces = d.doc_id)),
	confidentiality = COALESCE(d.record->'header'->'confidentiality'->>'code', ''),
	display_format = COALESCE(d.record->'header'->'displayFormat'->>'code', '');
ALTER TABLE documents ALTER COLUMN updated_at SET NOT NULL;
`,
	// 9: IHE MHD
	// SubmissionSets (issue 15 item 4), kept in the transaction that
	// archives their documents, one per client a submission concerns. The
	// body is archive.SubmissionSet (json: never queried inside); the
	// columns beside it are what the archive selects by. A uniqueId is the
	// source organisation's, unique for a client.
	`
-- Distributed by client_key, colocated with documents; a read by id
-- goes through the id index.
CREATE TABLE submission_sets (
	client_key    text NOT NULL,
	id            text NOT NULL,
	submitter_org text NOT NULL,
	unique_id     text NOT NULL DEFAULT '',
	received_at   timestamptz NOT NULL,
	body          json NOT NULL,
	PRIMARY KEY (client_key, id)
);
CREATE INDEX submission_sets_id ON submission_sets (id);
CREATE INDEX submission_sets_client ON submission_sets (client_key, received_at DESC, id DESC);
CREATE UNIQUE INDEX submission_sets_unique_id ON submission_sets (client_key, submitter_org, unique_id) WHERE unique_id <> '';
`,
	// 10: guardianships of minors (arkisto admin guardian, standing in for
	// the population register): who may act for a child in the citizen
	// view. Removing one ends it (until_at); the row stays, so that the
	// access log's guardian entries can be explained afterwards. At most
	// one guardianship of a pair is in force. Distributed by guardian: the
	// citizen view asks by guardian on every request.
	`
CREATE TABLE guardianships (
	guardian   text NOT NULL,
	id         bigserial,
	child      text NOT NULL,
	child_name text NOT NULL DEFAULT '',
	from_at    timestamptz NOT NULL,
	until_at   timestamptz,
	PRIMARY KEY (guardian, id)
);
CREATE UNIQUE INDEX guardianships_in_force ON guardianships (guardian, child) WHERE until_at IS NULL;
CREATE INDEX guardianships_child ON guardianships (child);
`,
	// 11: IHE MHD
	// DocumentReference.date (issue 15 item 2), when the reference to a
	// version was made: the date its sender gave (Record.Source), or its
	// receipt; the ITI-67 date search. Versions archived before this
	// migration had no sender's date kept: theirs is their receipt.
	`
ALTER TABLE documents ADD COLUMN referenced_at timestamptz;
UPDATE documents SET referenced_at = received_at;
ALTER TABLE documents ALTER COLUMN referenced_at SET NOT NULL;
`,
	// 12: IHE BALP audit (issue 15 item 8): the request an access-log
	// entry is about, as the door saw it: the client's and the server's
	// network addresses, the IHE transaction (ITI-65, ITI-67, ...) and the
	// raw search request. Empty for entries made before, and for those
	// with no network request. Adding a column with a constant default
	// rewrites nothing. GET /fhir/AuditEvent/{id} finds an entry by id
	// alone, which the primary key (client_key, id) cannot: a BRIN index
	// serves it, small and nearly free to keep, as ids grow with the log.
	`
ALTER TABLE access_log ADD COLUMN client_addr text NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN server_addr text NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN txn text NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN raw_query text NOT NULL DEFAULT '';
CREATE INDEX access_log_id ON access_log USING brin (id);
`,
	// 13: issue 16: no query has looked documents up by custodian since
	// registers moved to their controller (migration 3); the index cost
	// every archived version an index insert and its WAL.
	`
DROP INDEX documents_custodian_time;
`,
	// 14: issue 16: content and records kept in their rows, compressed,
	// not in TOAST tables. PostgreSQL moves a value out of its row when the
	// row passes toast_tuple_target (2 kB by default), after compressing
	// it: a generated 10 kB document compresses to about 6.4 kB and its
	// 5 kB record to 2.8 kB, and each went to its table's TOAST table, an
	// insert there and in its index on every archive and a TOAST index
	// probe on every read. The values are the same; only where new rows
	// keep them changes. Larger values still go out of the row.
	`
ALTER TABLE blobs SET (toast_tuple_target = 8160);
ALTER TABLE documents SET (toast_tuple_target = 4096);
`,
}
