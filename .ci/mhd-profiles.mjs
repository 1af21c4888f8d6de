// Checks the FHIR responses the end-to-end tests dumped (ARKISTO_FHIR_DUMP)
// against the IHE MHD 4.2 profile constraints the archive relies on. The
// IHE profile packages cannot be downloaded here, so each constraint is
// encoded by hand and cites its source: the profile's StructureDefinition
// id as published in MHD 4.2.3 (input/fsh of github.com/IHE/ITI.MHD at tag
// 4.2.3) and, where there is one, the section of MHD volume 2. The base
// FHIR R4 rules are checked separately (fhir-validate.mjs).
//
// usage: node mhd-profiles.mjs DIR
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MHD = 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/';
const RFC3986 = 'urn:ietf:rfc:3986';
const LIST_TYPES = 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes';

let failures = 0;
const problems = [];
const fail = (where, rule, msg) => problems.push(`${where}: ${rule}: ${msg}`);
const has = (v) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
const arr = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

// IHE.MHD.UniqueIdIdentifier (4.2.3): system 1.., use = #usual, value 1..
function uniqueIdIdentifier(where, rule, id) {
  if (!id) return fail(where, rule, 'missing');
  if (!id.system) fail(where, `${rule} (IHE.MHD.UniqueIdIdentifier system 1..)`, 'no system');
  if (!id.value) fail(where, `${rule} (IHE.MHD.UniqueIdIdentifier value 1..)`, 'no value');
  if (id.use !== 'usual') fail(where, `${rule} (IHE.MHD.UniqueIdIdentifier use = #usual)`, `use is ${JSON.stringify(id.use)}`);
}

// IHE.MHD.EntryUUID.Identifier (4.2.3): system = urn:ietf:rfc:3986,
// value starts with urn:uuid:, use = #official.
function entryUUIDIdentifier(where, id) {
  if (id.system !== RFC3986) fail(where, 'IHE.MHD.EntryUUID.Identifier system = urn:ietf:rfc:3986', JSON.stringify(id.system));
  if (!String(id.value ?? '').startsWith('urn:uuid:')) fail(where, 'IHE.MHD.EntryUUID.Identifier mhd-startswithuuid', JSON.stringify(id.value));
}

// Reference(Patient): a literal reference to a Patient, or a logical one.
function patientReference(where, rule, ref) {
  if (!ref) return;
  if (ref.type && ref.type !== 'Patient') fail(where, rule, `type ${ref.type}`);
  if (ref.reference && !/^(#|urn:uuid:|(.*\/)?Patient\/[A-Za-z0-9\-.]{1,64}$)/.test(ref.reference)) fail(where, rule, `reference ${ref.reference}`);
  if (!ref.reference && !ref.identifier) fail(where, rule, 'neither reference nor identifier');
}

// IHE.MHD.Minimal.DocumentReference (MHD 4.2.3, 2:3.65.4.1.2.1, 2:3.67.4.2.2.1).
// inBundle: the resource is in an ITI-65 Provide Document Bundle (its
// attachment.url is then the Binary entry's fullUrl).
function minimalDocumentReference(where, r) {
  const p = 'IHE.MHD.Minimal.DocumentReference';
  if (has(r.modifierExtension)) fail(where, `${p} modifierExtension 0..0`, 'present');
  if (!r.masterIdentifier) fail(where, `${p} masterIdentifier 1..1`, 'missing');
  else uniqueIdIdentifier(where, `${p} masterIdentifier only UniqueIdIdentifier`, r.masterIdentifier);
  for (const id of arr(r.identifier)) if (id.use === 'official') entryUUIDIdentifier(`${where}.identifier[entryUUID]`, id);
  if (!['current', 'superseded', 'entered-in-error'].includes(r.status)) fail(where, `${p} status 1..1 from DocumentReferenceStats`, JSON.stringify(r.status));
  if (has(r.docStatus)) fail(where, `${p} docStatus 0..0`, JSON.stringify(r.docStatus));
  if (arr(r.category).length > 1) fail(where, `${p} category 0..1`, `${arr(r.category).length} categories`);
  patientReference(`${where}.subject`, `${p} subject only Reference(Patient)`, r.subject);
  if (arr(r.content).length !== 1) fail(where, `${p} content 1..1`, `${arr(r.content).length} content elements`);
  for (const [i, c] of arr(r.content).entries()) {
    const a = c.attachment ?? {};
    const w = `${where}.content[${i}].attachment`;
    if (!a.contentType) fail(w, `${p} content.attachment.contentType 1..1`, 'missing');
    if (has(a.data)) fail(w, `${p} content.attachment.data 0..0`, 'the document is inline');
    if (!a.url) fail(w, `${p} content.attachment.url 1..1`, 'missing');
  }
  if (arr(r.context?.period).length > 1) fail(where, `${p} context.period 0..1`, 'several');
  for (const [i, rel] of arr(r.relatesTo).entries()) {
    if (!['replaces', 'transforms', 'signs', 'appends'].includes(rel.code)) fail(`${where}.relatesTo[${i}]`, 'FHIR R4 document-relationship-type (required)', JSON.stringify(rel.code));
  }
}

// IHE.MHD.Minimal.SubmissionSet (MHD 4.2.3, 2:3.65.4.1.2.1; ITI TF-3 4.2.3.3).
// What the source alone can give (its sourceId, its uniqueId) is checked
// where the List claims the profile (always in a Provide Bundle); a List
// the archive returns as a source sent it claims the profile only when it
// holds. The rest is the archive's to keep and is checked everywhere.
function minimalSubmissionSet(where, l, sourceParts) {
  const p = 'IHE.MHD.Minimal.SubmissionSet';
  const sourceIds = arr(l.extension).filter((e) => e.url === `${MHD}ihe-sourceId`);
  const check = sourceParts || arr(l.meta?.profile).includes(`${MHD}${p}`);
  if (check && (sourceIds.length !== 1 || !sourceIds[0].valueIdentifier?.value)) fail(where, `${p} extension[sourceId] 1..1 (valueIdentifier 1..1)`, `${sourceIds.length} sourceId extensions`);
  if (sourceIds.length > 1) fail(where, `${p} extension[sourceId] 1..1`, `${sourceIds.length} sourceId extensions`);
  for (const id of arr(l.identifier)) {
    if (id.use === 'usual' && check) {
      // SubmissionSetUniqueIdIdentifier: an OID as a URI.
      if (id.system !== RFC3986) fail(`${where}.identifier[uniqueId]`, 'IHE.MHD.SubmissionSetUniqueIdIdentifier system = urn:ietf:rfc:3986', JSON.stringify(id.system));
      if (!String(id.value ?? '').startsWith('urn:oid:')) fail(`${where}.identifier[uniqueId]`, 'IHE.MHD.SubmissionSetUniqueIdIdentifier mhd-startswithoid', JSON.stringify(id.value));
    }
    if (id.use === 'official') entryUUIDIdentifier(`${where}.identifier[entryUUID]`, id);
  }
  if (l.status !== 'current') fail(where, `${p} status = #current`, JSON.stringify(l.status));
  if (l.mode !== 'working') fail(where, `${p} mode = #working`, JSON.stringify(l.mode));
  if (!arr(l.code?.coding).some((c) => c.system === LIST_TYPES && c.code === 'submissionset')) fail(where, `${p} code = MHDlistTypes#submissionset`, JSON.stringify(l.code));
  patientReference(`${where}.subject`, `${p} subject only Reference(Patient)`, l.subject);
  if (has(l.encounter)) fail(where, `${p} encounter 0..0`, 'present');
  if (!l.date) fail(where, `${p} date 1..1`, 'missing');
  if (has(l.orderedBy)) fail(where, `${p} orderedBy 0..0`, 'present');
  if (has(l.emptyReason)) fail(where, `${p} emptyReason 0..0`, 'present');
  for (const [i, e] of arr(l.entry).entries()) {
    const w = `${where}.entry[${i}]`;
    if (has(e.flag) || has(e.deleted) || has(e.date)) fail(w, `${p} entry.flag, entry.deleted, entry.date 0..0`, 'present');
    const ref = e.item?.reference ?? '';
    if (!/^(urn:uuid:|(.*\/)?(DocumentReference|List)\/)/.test(ref)) fail(w, `${p} entry.item only Reference(DocumentReference or List)`, JSON.stringify(ref));
  }
}

// IHE.MHD.Patch.Parameters (MHD 4.2.3, 2:3.65.4.1.2.2): the UpdateDocumentRefs
// entry replaces DocumentReference.status with superseded, nothing else.
function patchParameters(where, prm) {
  const p = 'IHE.MHD.Patch.Parameters';
  const ops = arr(prm.parameter).filter((x) => x.name === 'operation');
  if (ops.length !== 1) return fail(where, `${p} parameter[operation] 1..1`, `${ops.length} operations`);
  const part = Object.fromEntries(arr(ops[0].part).map((x) => [x.name, x]));
  if (part.type?.valueCode !== 'replace') fail(where, `${p} part[type].valueCode = #replace`, JSON.stringify(part.type));
  if (part.path?.valueString !== 'DocumentReference.status') fail(where, `${p} part[path].valueString = DocumentReference.status`, JSON.stringify(part.path));
  if (part.value?.valueCode !== 'superseded') fail(where, `${p} part[value].valueCode = #superseded`, JSON.stringify(part.value));
}

// IHE.MHD.Minimal.ProvideBundle (MHD 4.2.3, 2:3.65.4.1.2): what a Document
// Source sends; the project's own `arkisto bundle` writes one.
function minimalProvideBundle(where, b) {
  const p = 'IHE.MHD.Minimal.ProvideBundle';
  if (!arr(b.meta?.profile).length) fail(where, `${p} meta.profile 1..*`, 'no profile claimed');
  if (b.type !== 'transaction') fail(where, `${p} type = #transaction`, JSON.stringify(b.type));
  let sets = 0;
  for (const [i, e] of arr(b.entry).entries()) {
    const w = `${where}.entry[${i}]`;
    const r = e.resource ?? {};
    const method = e.request?.method;
    if (!e.request) fail(w, `${p} entry.request 1..1`, 'missing');
    if (r.resourceType === 'List' && arr(r.code?.coding).some((c) => c.code === 'submissionset')) {
      sets++;
      if (method !== 'POST') fail(w, `${p} entry[SubmissionSet].request.method = #POST`, method);
      minimalSubmissionSet(`${w}.resource`, r, true);
    } else if (r.resourceType === 'DocumentReference') {
      if (method !== 'POST') fail(w, `${p} entry[DocumentRefs].request.method = #POST`, method);
      minimalDocumentReference(`${w}.resource`, r);
    } else if (r.resourceType === 'Parameters') {
      if (method !== 'PATCH') fail(w, `${p} entry[UpdateDocumentRefs].request.method = #PATCH`, method);
      patchParameters(`${w}.resource`, r);
    } else if (r.resourceType === 'Binary' || r.resourceType === 'Patient') {
      // entry[Documents], entry[Patient]
    } else {
      fail(w, `${p} entry slicing is closed`, `a ${r.resourceType} entry`);
    }
  }
  if (sets !== 1) fail(where, `${p} entry[SubmissionSet] 1..1`, `${sets} SubmissionSets`);
}

// ITI-65 response (MHD 4.2.3, 2:3.65.4.2.2): a transaction-response with a
// response per entry; a created resource has its location.
function provideResponse(where, b) {
  if (b.type !== 'transaction-response') fail(where, 'MHD 2:3.65.4.2.2 Bundle.type transaction-response', JSON.stringify(b.type));
  for (const [i, e] of arr(b.entry).entries()) {
    const s = e.response?.status ?? '';
    if (!/^\d{3}/.test(s)) fail(`${where}.entry[${i}]`, 'MHD 2:3.65.4.2.2 entry.response.status', JSON.stringify(s));
    if (s.startsWith('201') && !e.response.location) fail(`${where}.entry[${i}]`, 'MHD 2:3.65.4.2.2, FHIR R4 http.html#transaction-response: 201 with a location', 'no location');
  }
}

// IHE.MHD.FindDocumentReferencesResponseMessage / FindDocumentListsResponseMessage
// (MHD 4.2.3, 2:3.67.4.2, 2:3.66.4.2): searchset, total, entry.fullUrl.
function findResponse(where, b, profile) {
  if (b.type !== 'searchset') fail(where, `${profile} type = #searchset`, JSON.stringify(b.type));
  if (typeof b.total !== 'number') fail(where, `${profile} total 1..`, 'missing');
  for (const [i, e] of arr(b.entry).entries()) {
    if (!e.fullUrl) fail(`${where}.entry[${i}]`, `${profile} entry.fullUrl 1..`, 'missing');
    if (profile.includes('Lists') && e.resource?.resourceType !== 'List' && e.resource?.resourceType !== 'OperationOutcome') {
      fail(`${where}.entry[${i}]`, `${profile} entry slicing is closed (SubmissionSet, Folder)`, e.resource?.resourceType);
    }
  }
}

// The actors' CapabilityStatements (MHD 4.2.3, 1:33.1.1.3, 1:33.1.1.4).
function capabilityStatement(where, cs) {
  for (const actor of ['IHE.MHD.DocumentRecipient', 'IHE.MHD.DocumentResponder']) {
    if (!arr(cs.instantiates).some((u) => u.endsWith(`/CapabilityStatement/${actor}`))) {
      fail(where, 'MHD 1:33.1 actors: CapabilityStatement.instantiates', `does not instantiate ${actor}`);
    }
  }
}

const dir = process.argv[2];
const required = ['documentreference.json', 'searchset-bundle.json', 'transaction-response-bundle.json', 'capabilitystatement.json', 'provide-bundle.json'];
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
for (const want of required) {
  if (!files.includes(want)) {
    console.log(`MISSING ${want}: the end-to-end tests did not write it`);
    failures++;
  }
}
let checked = 0;
for (const f of files) {
  const res = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const before = problems.length;
  const visit = (where, r) => {
    if (!r || typeof r !== 'object') return;
    switch (r.resourceType) {
      case 'DocumentReference':
        minimalDocumentReference(where, r);
        checked++;
        break;
      case 'List':
        if (arr(r.code?.coding).some((c) => c.code === 'submissionset')) {
          minimalSubmissionSet(where, r, false);
          checked++;
        }
        break;
      case 'CapabilityStatement':
        capabilityStatement(where, r);
        checked++;
        break;
      case 'Bundle': {
        const types = arr(r.entry).map((e) => e.resource?.resourceType);
        if (r.type === 'transaction' && types.includes('List')) {
          minimalProvideBundle(where, r);
          checked++;
          return; // its entries were checked as a Provide Bundle's
        }
        if (r.type === 'transaction-response') {
          provideResponse(where, r);
          checked++;
        }
        if (r.type === 'searchset' && types.includes('DocumentReference')) {
          findResponse(where, r, 'IHE.MHD.FindDocumentReferencesResponseMessage');
          checked++;
        }
        if (r.type === 'searchset' && types.includes('List')) {
          findResponse(where, r, 'IHE.MHD.FindDocumentListsResponseMessage');
          checked++;
        }
        for (const [i, e] of arr(r.entry).entries()) visit(`${where}.entry[${i}].resource`, e.resource);
        break;
      }
    }
  };
  visit(f, res);
  console.log(`${problems.length === before ? 'ok     ' : 'FAILED '} ${f}`);
}
for (const p of problems) console.log(`  ${p}`);
if (failures > 0 || problems.length > 0) {
  console.log(`${problems.length} MHD profile constraint(s) broken, ${failures} file(s) missing`);
  process.exit(1);
}
console.log(`MHD 4.2 profile constraints hold (${checked} resources checked)`);
