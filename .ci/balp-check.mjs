// Checks the AuditEvents the end-to-end tests dumped (ARKISTO_FHIR_DUMP)
// against the IHE Basic Audit Log Patterns (BALP) 1.1 profiles each claims
// in meta.profile. The IHE packages cannot be downloaded here, so the
// constraints the archive relies on are encoded below, each citing its
// profile (https://profiles.ihe.net/ITI/BALP/, StructureDefinitions
// IHE.BasicAudit.Create, .PatientCreate, .Read, .PatientRead, .Update,
// .PatientUpdate, .Query and .PatientQuery). Base FHIR R4 validity is fhir-validate.mjs's.
//
// usage: node balp-check.mjs DIR
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const IHE_EVENT = 'urn:ihe:event-type-code';

// The files of AuditEvents the tests dump (internal/fhirapi): each must be
// there, so that a renamed dump cannot silently leave the check empty.
const expected = ['auditevent-bundle.json', 'auditevent-balp-bundle.json', 'auditevent.json', 'auditevent-update-bundle.json'];
// Every profile the archive claims must be met at least once in the dump.
const mustSee = ['PatientCreate', 'PatientRead', 'PatientUpdate', 'PatientQuery'];

// The patterns of each profile (BALP 1.1 FSH: PatientRead.fsh,
// PatientCreate.fsh, PatientUpdate.fsh, PatientQuery.fsh).
const base = {
  Create: {
    subtypes: ['create'], action: 'C',
    // DICOM and IHE: the client is the Source Role ID, the server the Destination.
    client: '110153', server: '110152',
    user: ['AUT', 'INF', 'CST'], // ValueSet DataSources
    object: 'data',
  },
  Read: {
    subtypes: ['read', 'vread'], action: 'R',
    // In a read the data flows to the client: the client is the Destination.
    client: '110152', server: '110153',
    user: ['IRCP'],
    object: 'data',
  },
  Update: {
    subtypes: ['update', 'patch'], action: 'U',
    client: '110153', server: '110152',
    user: ['AUT', 'INF', 'CST'], // ValueSet DataSources
    object: 'data',
  },
  Query: {
    subtypes: ['search', 'search-type', 'search-system'], action: 'E',
    client: '110153', server: '110152',
    user: ['IRCP'],
    object: 'query',
  },
};
const profiles = {
  Create: { ...base.Create, patient: false },
  PatientCreate: { ...base.Create, patient: true },
  Read: { ...base.Read, patient: false },
  PatientRead: { ...base.Read, patient: true },
  Update: { ...base.Update, patient: false },
  PatientUpdate: { ...base.Update, patient: true },
  Query: { ...base.Query, patient: false },
  PatientQuery: { ...base.Query, patient: true },
};
// MHD 4.2 transactions and the RESTful interaction each is.
const transactions = { 'ITI-65': 'create', 'ITI-66': 'search-type', 'ITI-67': 'search-type', 'ITI-68': 'read' };

const has = (cc, system, code) => (cc?.coding ?? []).some((c) => c.system === system && c.code === code);
const isType = (en, code) => en.type?.system === ENTITY_TYPE && en.type?.code === code;

// check returns the BALP violations of one AuditEvent, each naming its rule.
function check(ev) {
  const problems = [];
  const claimed = (ev.meta?.profile ?? []).filter((p) => p.startsWith(BALP)).map((p) => p.slice(BALP.length));
  const fail = (name, msg) => problems.push(`BALP ${name}: ${msg}`);
  // FHIR R4 references.html#contained: a local reference resolves to a contained resource.
  const contained = new Set((ev.contained ?? []).map((r) => `#${r.id}`));
  JSON.stringify(ev, (k, v) => {
    if (k === 'reference' && typeof v === 'string' && v.startsWith('#') && !contained.has(v)) {
      problems.push(`FHIR R4 references.html#contained: ${v} is not a contained resource`);
    }
    return v;
  });
  // MHD 4.2 audit: the transaction's subtype agrees with the interaction.
  for (const s of ev.subtype ?? []) {
    if (s.system !== IHE_EVENT) continue;
    const want = transactions[s.code];
    if (!want) problems.push(`MHD 4.2: unknown transaction subtype ${s.code}`);
    else if (!(ev.subtype ?? []).some((r) => r.system === RESTFUL && r.code === want)) {
      problems.push(`MHD 4.2: a ${s.code} event must have the RESTful subtype ${want}`);
    }
  }
  for (const name of claimed) {
    const p = profiles[name];
    if (!p) {
      fail(name, 'not a profile this check knows');
      continue;
    }
    if (ev.type?.system !== 'http://terminology.hl7.org/CodeSystem/audit-event-type' || ev.type?.code !== 'rest') {
      fail(name, 'type must be audit-event-type#rest');
    }
    if (!(ev.subtype ?? []).some((s) => s.system === RESTFUL && p.subtypes.includes(s.code))) {
      fail(name, `subtype must include restful-interaction#${p.subtypes.join(' or #')}`);
    }
    if (ev.action !== p.action) fail(name, `action must be ${p.action}, is ${ev.action}`);
    if (!ev.recorded) fail(name, 'recorded is required (1..1)');
    if (ev.outcome !== '0') fail(name, `outcome must be 0 (success), is ${ev.outcome}`);
    const agents = ev.agent ?? [];
    if (agents.length < 2) fail(name, 'agent 2..* (client and server) required');
    for (const [slice, code, display] of [['client', p.client], ['server', p.server]]) {
      const matched = agents.filter((a) => has(a.type, DCM, code));
      if (matched.length !== 1) {
        fail(name, `exactly one agent[${slice}] with type DCM#${code} required, found ${matched.length}`);
        continue;
      }
      const a = matched[0];
      if (!a.who) fail(name, `agent[${slice}].who required (1..1)`);
      if (!a.network?.address) fail(name, `agent[${slice}].network required (1..1): the address as the TCP connection showed it`);
      if (a.media) fail(name, `agent[${slice}].media not allowed (0..0)`);
    }
    const users = agents.filter((a) => p.user.some((c) => has(a.type, PARTICIPATION, c)));
    if (users.length > 1) fail(name, `at most one agent[user] (${p.user.join('/')}), found ${users.length}`);
    for (const u of users) {
      if (!u.who) fail(name, 'agent[user].who required (1..1)');
      if (u.requestor !== true) fail(name, 'agent[user].requestor must be true');
      if (u.network) fail(name, 'agent[user].network not allowed (0..0): users are not network devices');
      if (u.media) fail(name, 'agent[user].media not allowed (0..0)');
    }
    // Entities are sliced by type: every System Object (#2) is the one
    // data or query entity the profile admits.
    const entities = ev.entity ?? [];
    const objects = entities.filter((en) => isType(en, '2'));
    if (objects.length !== 1) {
      fail(name, `exactly one entity of type audit-entity-type#2 (entity[${p.object}]) required, found ${objects.length}`);
    }
    for (const en of objects) {
      if (p.object === 'data') {
        if (!en.what) fail(name, 'entity[data].what required (1..1)');
        if (!(en.role?.system === OBJECT_ROLE && ['3', '4', '20'].includes(en.role?.code))) {
          fail(name, 'entity[data].role must be object-role#4, #3 or #20 (ValueSet RestObjectRoles)');
        }
      } else {
        if (!(en.role?.system === OBJECT_ROLE && en.role?.code === '24')) fail(name, 'entity[query].role must be object-role#24 (Query)');
        if (en.what) fail(name, 'entity[query].what not allowed (0..0)');
        if (en.lifecycle) fail(name, 'entity[query].lifecycle not allowed (0..0)');
        if (en.detail) fail(name, 'entity[query].detail not allowed (0..0)');
        if (!en.query) fail(name, 'entity[query].query required (1..1): the raw search request, base64');
        else if (!/^[A-Za-z0-9+/]*={0,2}$/.test(en.query) || en.query.length % 4 !== 0) {
          fail(name, 'entity[query].query must be base64 (base64Binary)');
        }
      }
    }
    const patients = entities.filter((en) => isType(en, '1') && en.role?.system === OBJECT_ROLE && en.role?.code === '1');
    if (p.patient) {
      if (entities.length < 2) fail(name, 'entity 2..* required (the patient and the data or query)');
      if (patients.length !== 1) fail(name, `entity with type 1 and role 1 patient required (1..1), found ${patients.length}`);
      for (const en of patients) {
        if (!/^Patient\/[^/]+$/.test(en.what?.reference ?? '')) fail(name, 'entity[patient].what must be a Reference(Patient)');
      }
    }
    // FHIR R4 AuditEvent sev-1: an entity has a name or a query, not both.
    for (const en of entities) {
      if (en.name && en.query) fail(name, 'an entity has either name or query (sev-1)');
    }
  }
  return { claimed, problems };
}

const dir = process.argv[2];
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
let failed = 0;
for (const want of expected) {
  if (!files.includes(want)) {
    console.log(`MISSING ${want}: the end-to-end tests did not write it`);
    failed++;
  }
}
const seen = {};
let events = 0;
for (const f of files) {
  const res = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const list = res.resourceType === 'Bundle' ? (res.entry ?? []).map((e) => e.resource) : [res];
  for (const [i, ev] of list.entries()) {
    if (ev?.resourceType !== 'AuditEvent') continue;
    events++;
    const { claimed, problems } = check(ev);
    for (const c of claimed) seen[c] = (seen[c] ?? 0) + 1;
    const label = res.resourceType === 'Bundle' ? `${f} entry[${i}] (AuditEvent/${ev.id})` : `${f} (AuditEvent/${ev.id})`;
    if (problems.length > 0) {
      failed++;
      console.log(`INVALID ${label}, claiming ${claimed.join(', ') || 'no BALP profile'}:`);
      for (const p of problems) console.log(`  ${p}`);
    } else if (claimed.length > 0) {
      console.log(`valid   ${label}: ${claimed.join(', ')}`);
    }
  }
}
for (const p of mustSee) {
  if (!seen[p]) {
    console.log(`MISSING an AuditEvent claiming ${p}: the check would prove nothing of it`);
    failed++;
  }
}
if (failed > 0) {
  console.log(`${failed} problem(s) against the BALP profiles`);
  process.exit(1);
}
console.log(`all ${events} AuditEvents meet the constraints of the BALP profiles they claim (${Object.entries(seen).map(([k, v]) => `${k} ${v}`).join(', ')})`);
