package sqlite

// migrations are applied in order, each once, forward only. Never edit one
// that has shipped; add a new one.
//
// Client-scoped tables carry client_key so that the PostgreSQL twin of this
// schema can be distributed by client (see docs/scaling.md when it exists).
var migrations = []string{
	// 1: the archive core.
	`
-- data is NULL when the content is in an external blob store.
CREATE TABLE blobs (
	sha256 TEXT PRIMARY KEY,
	size   INTEGER NOT NULL,
	data   BLOB
);

CREATE TABLE documents (
	doc_id              TEXT PRIMARY KEY,
	set_id              TEXT NOT NULL,
	version             INTEGER NOT NULL CHECK (version >= 1),
	client_key          TEXT NOT NULL,
	status              TEXT NOT NULL CHECK (status IN ('current', 'superseded', 'nullified')),
	custodian           TEXT NOT NULL,
	register            TEXT NOT NULL,
	service_task        TEXT NOT NULL DEFAULT '',
	general_type        TEXT NOT NULL DEFAULT '',
	specific_type       TEXT NOT NULL DEFAULT '',
	document_group      TEXT NOT NULL,
	case_id             TEXT NOT NULL DEFAULT '',
	client_relationship TEXT NOT NULL DEFAULT '',
	service_unit        TEXT NOT NULL DEFAULT '',
	service_process     TEXT NOT NULL DEFAULT '',
	case_opened_us      INTEGER,
	case_closed_us      INTEGER,
	effective_us        INTEGER NOT NULL,
	replaces            TEXT NOT NULL DEFAULT '',
	content_sha256      TEXT NOT NULL REFERENCES blobs (sha256),
	content_size        INTEGER NOT NULL,
	record_json         TEXT NOT NULL,
	received_us         INTEGER NOT NULL,
	submitter_system    TEXT NOT NULL,
	submitter_org       TEXT NOT NULL,
	UNIQUE (set_id, version)
);
CREATE INDEX documents_client ON documents (client_key, effective_us DESC, doc_id DESC);
CREATE INDEX documents_custodian ON documents (custodian, effective_us DESC, doc_id DESC);
CREATE INDEX documents_case ON documents (case_id) WHERE case_id <> '';
CREATE INDEX documents_relationship ON documents (client_relationship) WHERE client_relationship <> '';

CREATE TABLE nullifications (
	doc_id      TEXT PRIMARY KEY REFERENCES documents (doc_id),
	client_key  TEXT NOT NULL,
	reason_code TEXT NOT NULL,
	reason_text TEXT NOT NULL,
	by_json     TEXT NOT NULL,
	at_us       INTEGER NOT NULL
);

CREATE TABLE access_log (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	at_us        INTEGER NOT NULL,
	client_key   TEXT NOT NULL DEFAULT '',
	custodian    TEXT NOT NULL DEFAULT '',
	action       TEXT NOT NULL,
	outcome      TEXT NOT NULL CHECK (outcome IN ('allowed', 'refused')),
	reason       TEXT NOT NULL,
	caller_system TEXT NOT NULL,
	caller_org    TEXT NOT NULL,
	caller_json  TEXT NOT NULL,
	documents    TEXT NOT NULL DEFAULT '[]',
	details      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX access_log_client ON access_log (client_key, id);

CREATE TABLE trust_anchors (
	sha256   TEXT PRIMARY KEY,
	subject  TEXT NOT NULL,
	der      BLOB NOT NULL,
	added_us INTEGER NOT NULL
);

CREATE TABLE organisations (
	oid      TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	kind     TEXT NOT NULL CHECK (kind IN ('public', 'private')),
	added_us INTEGER NOT NULL
);

CREATE TABLE systems (
	name        TEXT PRIMARY KEY,
	org_oid     TEXT NOT NULL REFERENCES organisations (oid),
	cert_sha256 TEXT NOT NULL UNIQUE,
	cert_der    BLOB NOT NULL,
	added_us    INTEGER NOT NULL
);
`,
	// 2: revocation of system certificates, and the store's own settings.
	`
ALTER TABLE systems ADD COLUMN revoked_us INTEGER;

-- Certificates revoked by an imported CRL: issuer (SHA-256 of the raw
-- issuer name) and serial number (hex).
CREATE TABLE revoked_certificates (
	issuer     TEXT NOT NULL,
	serial     TEXT NOT NULL,
	revoked_us INTEGER NOT NULL,
	PRIMARY KEY (issuer, serial)
);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
	// 3: registers, client relationships and the access rights they grant,
	// register transfers, archivists; organisations' full details.
	`
ALTER TABLE organisations ADD COLUMN name_sv TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN name_en TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN business_id TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN parent TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN active_from_us INTEGER;
ALTER TABLE organisations ADD COLUMN active_to_us INTEGER;

CREATE TABLE registers (
	controller     TEXT NOT NULL,
	type           TEXT NOT NULL,
	added_us       INTEGER NOT NULL,
	transferred_to TEXT NOT NULL DEFAULT '',
	transferred_us INTEGER,
	PRIMARY KEY (controller, type)
);
-- Organisations onboarded before registers existed get a client register.
INSERT INTO registers (controller, type, added_us) SELECT oid, '1', added_us FROM organisations;

-- The controller whose register holds a version now (the custodian until
-- the register is transferred).
ALTER TABLE documents ADD COLUMN controller TEXT NOT NULL DEFAULT '';
UPDATE documents SET controller = custodian;
CREATE INDEX documents_controller ON documents (controller, effective_us DESC, doc_id DESC);
CREATE INDEX documents_controller_register ON documents (controller, register, doc_id);

CREATE TABLE relationships (
	client_key TEXT NOT NULL,
	id         TEXT NOT NULL,
	organiser  TEXT NOT NULL,
	start_day  TEXT NOT NULL,
	end_day    TEXT NOT NULL DEFAULT '',
	document   TEXT NOT NULL,
	stated     TEXT NOT NULL DEFAULT '{}', -- what the document says, as JSON
	PRIMARY KEY (client_key, id)
);
CREATE INDEX relationships_organiser ON relationships (organiser);

CREATE TABLE relationship_grants (
	client_key      TEXT NOT NULL,
	relationship_id TEXT NOT NULL,
	organiser       TEXT NOT NULL,
	provider        TEXT NOT NULL,
	unit            TEXT NOT NULL,
	service_task    TEXT NOT NULL,
	start_day       TEXT NOT NULL DEFAULT '',
	end_day         TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (client_key, relationship_id, service_task, unit)
);
CREATE INDEX relationship_grants_provider ON relationship_grants (client_key, provider);

CREATE TABLE transfers (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	from_controller TEXT NOT NULL,
	to_controller   TEXT NOT NULL,
	register_type   TEXT NOT NULL,
	effective_us    INTEGER NOT NULL,
	started_us      INTEGER NOT NULL,
	finished_us     INTEGER,
	last_doc        TEXT NOT NULL DEFAULT '',
	moved           INTEGER NOT NULL DEFAULT 0,
	total           INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE archivists (
	person     TEXT NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	controller TEXT NOT NULL,
	added_us   INTEGER NOT NULL,
	PRIMARY KEY (person, controller)
);
`,
	// 4: a client relationship belongs to its organiser: relationships and
	// the grants they make are keyed by organiser too, so that another
	// organiser's document with the same client and relationship id can
	// never replace or withdraw them.
	`
CREATE TABLE relationships_v4 (
	client_key TEXT NOT NULL,
	organiser  TEXT NOT NULL,
	id         TEXT NOT NULL,
	start_day  TEXT NOT NULL,
	end_day    TEXT NOT NULL DEFAULT '',
	document   TEXT NOT NULL,
	stated     TEXT NOT NULL DEFAULT '{}',
	PRIMARY KEY (client_key, organiser, id)
);
INSERT INTO relationships_v4 (client_key, organiser, id, start_day, end_day, document, stated)
	SELECT client_key, organiser, id, start_day, end_day, document, stated FROM relationships;
DROP TABLE relationships;
ALTER TABLE relationships_v4 RENAME TO relationships;
CREATE INDEX relationships_organiser ON relationships (organiser);

CREATE TABLE relationship_grants_v4 (
	client_key      TEXT NOT NULL,
	organiser       TEXT NOT NULL,
	relationship_id TEXT NOT NULL,
	provider        TEXT NOT NULL,
	unit            TEXT NOT NULL,
	service_task    TEXT NOT NULL,
	start_day       TEXT NOT NULL DEFAULT '',
	end_day         TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (client_key, organiser, relationship_id, service_task, unit)
);
INSERT INTO relationship_grants_v4 (client_key, organiser, relationship_id, provider, unit, service_task, start_day, end_day)
	SELECT client_key, organiser, relationship_id, provider, unit, service_task, start_day, end_day FROM relationship_grants;
DROP TABLE relationship_grants;
ALTER TABLE relationship_grants_v4 RENAME TO relationship_grants;
CREATE INDEX relationship_grants_provider ON relationship_grants (client_key, provider);
`,
	// 5: the token ledger: the replay keys of accepted bearer tokens until
	// they expire, so that every server on the archive refuses a second
	// use of a token (archive.TokenLedger).
	`
CREATE TABLE used_tokens (
	token_key  BLOB PRIMARY KEY,
	expires_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX used_tokens_expiry ON used_tokens (expires_us);
`,
	// 6: clients' will expressions and the disclosure log. Both are
	// append-only: a withdrawal is a row of its own beside the expression
	// it ends (its primary key lets only the first one in), and nothing
	// is ever updated. The bodies are the whole JSON; the other columns are
	// what the archive selects and orders by.
	`
CREATE TABLE will_expressions (
	id          TEXT PRIMARY KEY,
	client_key  TEXT NOT NULL,
	kind        TEXT NOT NULL,
	recorded_us INTEGER NOT NULL,
	body        TEXT NOT NULL -- consent.Expression without its withdrawal
);
CREATE INDEX will_expressions_client ON will_expressions (client_key, recorded_us, id);

CREATE TABLE will_withdrawals (
	id         TEXT PRIMARY KEY REFERENCES will_expressions (id), -- the expression's
	client_key TEXT NOT NULL,
	at_us      INTEGER NOT NULL,
	body       TEXT NOT NULL -- consent.Withdrawal
);

CREATE TABLE disclosures (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	at_us      INTEGER NOT NULL,
	client_key TEXT NOT NULL,
	discloser  TEXT NOT NULL,
	recipient  TEXT NOT NULL,
	source     TEXT NOT NULL,
	body       TEXT NOT NULL -- archive.Disclosure
);
CREATE INDEX disclosures_client ON disclosures (client_key, id);
CREATE INDEX disclosures_discloser ON disclosures (discloser, id);
CREATE INDEX disclosures_recipient ON disclosures (recipient, id);
`,
	// 7: IHE MHD ITI-67 search (issue 15): when a version's metadata last
	// changed (meta.lastUpdated, _lastUpdated), the author's folded names
	// (author.family, author.given), the confidentiality code
	// (security-label), the display form format (format), and the client's
	// FHIR Patient id (archive.PatientID). The author terms and Patient ids
	// of versions archived before this migration are filled in by the store
	// on open (search_terms 0 until then): folding names needs Unicode the
	// SQL lacks, and the id the archive's secret.
	`
ALTER TABLE documents ADD COLUMN updated_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN author_family TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN author_given TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN confidentiality TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN display_format TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN patient_id TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN search_terms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX documents_patient ON documents (patient_id);
CREATE INDEX documents_replaces ON documents (replaces) WHERE replaces <> '';
CREATE INDEX documents_search_terms_pending ON documents (doc_id) WHERE search_terms = 0;
-- Until now a version changed when archived, when its replacement was
-- archived and when nullified; a register transfer's time is not known.
UPDATE documents SET
	updated_us = MAX(received_us,
		COALESCE((SELECT n.at_us FROM nullifications n WHERE n.doc_id = documents.doc_id), 0),
		COALESCE((SELECT MAX(r.received_us) FROM documents r WHERE r.replaces = documents.doc_id), 0)),
	confidentiality = COALESCE(json_extract(record_json, '$.header.confidentiality.code'), ''),
	display_format = COALESCE(json_extract(record_json, '$.header.displayFormat.code'), '');
`,
	// 8: IHE MHD
	// SubmissionSets (issue 15 item 4), kept in the transaction that
	// archives their documents, one per client a submission concerns. The
	// body is archive.SubmissionSet; the columns beside it are what the
	// archive selects by. A uniqueId is the source organisation's, unique
	// for a client.
	`
CREATE TABLE submission_sets (
	id            TEXT PRIMARY KEY,
	client_key    TEXT NOT NULL,
	submitter_org TEXT NOT NULL,
	unique_id     TEXT NOT NULL DEFAULT '',
	received_us   INTEGER NOT NULL,
	body          TEXT NOT NULL
);
CREATE INDEX submission_sets_client ON submission_sets (client_key, received_us DESC, id DESC);
CREATE UNIQUE INDEX submission_sets_unique_id ON submission_sets (client_key, submitter_org, unique_id) WHERE unique_id <> '';
`,
	// 9: guardianships of minors (arkisto admin guardian, standing in for
	// the population register): who may act for a child in the citizen
	// view. Removing one ends it (until_us); the row stays, so that the
	// access log's guardian entries can be explained afterwards. At most
	// one guardianship of a pair is in force.
	`
CREATE TABLE guardianships (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	guardian   TEXT NOT NULL,
	child      TEXT NOT NULL,
	child_name TEXT NOT NULL DEFAULT '',
	from_us    INTEGER NOT NULL,
	until_us   INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX guardianships_in_force ON guardianships (guardian, child) WHERE until_us = 0;
CREATE INDEX guardianships_child ON guardianships (child);
`,
	// 10: IHE MHD
	// DocumentReference.date (issue 15 item 2), when the reference to a
	// version was made: the date its sender gave (Record.Source), or its
	// receipt; the ITI-67 date search. Versions archived before this
	// migration had no sender's date kept: theirs is their receipt.
	`
ALTER TABLE documents ADD COLUMN referenced_us INTEGER NOT NULL DEFAULT 0;
UPDATE documents SET referenced_us = received_us;
`,
	// 11: IHE BALP audit (issue 15 item 8): the request an access-log
	// entry is about, as the door saw it: the client's and the server's
	// network addresses, the IHE transaction (ITI-65, ITI-67, ...) and the
	// raw search request. Empty for entries made before, and for those
	// with no network request.
	`
ALTER TABLE access_log ADD COLUMN client_addr TEXT NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN server_addr TEXT NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN txn TEXT NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN raw_query TEXT NOT NULL DEFAULT '';
`,
	// 12: issue 16: no query has looked documents up by custodian since
	// registers moved to their controller (migration 3); the index cost
	// every archived version a B-tree insert and its pages in the WAL.
	`
DROP INDEX documents_custodian;
`,
}
