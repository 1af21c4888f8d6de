// An independent FHIR client library from npm (fhir-kit-client) talking
// to a real arkisto server as an IHE MHD Document Source and Consumer
// would: provide, resolve the Patient, find with `patient`, POST search,
// retrieve, replace with the MHD PATCH pattern and search the audit log.
// TestFHIRKitClient (fhirkit_e2e_test.go) starts the server, writes the
// fixture and runs this; each step prints "ok <step>" or throws.
//
// usage: node client.mjs FIXTURE.json
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Client } from 'fhir-kit-client';
import { Agent, setGlobalDispatcher } from 'undici';

const fx = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// Mutual TLS for Node's fetch, which fhir-kit-client uses.
setGlobalDispatcher(new Agent({ connect: { ca: fx.ca, cert: fx.cert, key: fx.key } }));

// Every request needs a fresh token (the archive refuses a replayed jti):
// the signer hook takes the next one the test minted.
let nextToken = 0;
const client = new Client({
  baseUrl: fx.base,
  requestSigner: (_url, init) => {
    if (nextToken >= fx.tokens.length) throw new Error('the fixture ran out of tokens');
    init.headers.set('authorization', `Bearer ${fx.tokens[nextToken++]}`);
  },
});

const fail = (step, msg, got) => {
  throw new Error(`${step}: ${msg}${got === undefined ? '' : `: ${JSON.stringify(got).slice(0, 1500)}`}`);
};
const ok = (step) => console.log(`ok ${step}`);
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const docRefs = (bundle) => (bundle.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === 'DocumentReference');

// 1. The CapabilityStatement.
{
  const cs = await client.capabilityStatement();
  if (cs.resourceType !== 'CapabilityStatement' || cs.fhirVersion !== '4.0.1') fail('metadata', 'not an R4 CapabilityStatement', cs);
  ok('metadata');
}

// 2. ITI-65: provide the document.
{
  const res = await client.transaction({ body: fx.provide });
  if (res.resourceType !== 'Bundle' || res.type !== 'transaction-response') fail('provide', 'not a transaction-response', res);
  const locations = res.entry.map((e) => e.response?.location ?? '');
  if (!locations.includes(`DocumentReference/${fx.document}`)) fail('provide', 'no location for the DocumentReference', res);
  ok('provide');
}

// 3. PDQm-style: resolve the Patient from the identity code.
let patient;
{
  const b = await client.search({ resourceType: 'Patient', searchParams: { identifier: fx.patientIdentifier } });
  if (b.total !== 1 || b.entry?.[0]?.resource?.resourceType !== 'Patient') fail('patient', 'want one Patient', b);
  patient = b.entry[0].resource.id;
  ok('patient');
}

// 4. ITI-67 with the MHD-required `patient` parameter.
let ref;
{
  const b = await client.search({ resourceType: 'DocumentReference', searchParams: { patient, status: 'current' } });
  ref = docRefs(b).find((r) => r.id === fx.document);
  if (!ref) fail('find', 'the provided document is not found by patient', b);
  if (ref.subject?.reference !== `Patient/${patient}`) fail('find', 'subject is not the Patient reference', ref.subject);
  ok('find');
}

// 5. ITI-67 as POST _search: the identity code stays out of the URL.
{
  const b = await client.search({
    resourceType: 'DocumentReference',
    searchParams: { 'patient.identifier': fx.patientIdentifier },
    options: { postSearch: true },
  });
  if (!docRefs(b).some((r) => r.id === fx.document)) fail('post-search', 'the provided document is not found', b);
  ok('post-search');
}

// 6. ITI-68: retrieve. A FHIR client reads Binary as a resource; a plain
// GET of attachment.url with the document's type gets the bytes.
{
  const att = ref.content?.[0]?.attachment;
  if (!att?.url) fail('retrieve', 'no attachment.url', ref);
  const bin = await client.read({ resourceType: 'Binary', id: att.url.split('/').pop() });
  const bytes = Buffer.from(bin.data ?? '', 'base64');
  if (bin.resourceType !== 'Binary' || sha256(bytes) !== fx.sha256) fail('retrieve', 'the Binary does not carry the document', { ...bin, data: undefined });
  if (att.hash && Buffer.from(att.hash, 'base64').toString('hex') !== createHash('sha1').update(bytes).digest('hex')) {
    fail('retrieve', 'attachment.hash (SHA-1, base64) is not the bytes\'', att.hash);
  }
  const init = { headers: { accept: 'application/hl7-v3+xml', authorization: `Bearer ${fx.tokens[nextToken++]}` } };
  const raw = await fetch(att.url.startsWith('http') ? att.url : `${fx.base}/${att.url}`, init);
  const body = Buffer.from(await raw.arrayBuffer());
  if (raw.status !== 200 || sha256(body) !== fx.sha256) fail('retrieve', `GET attachment.url: ${raw.status}, not the document`);
  ok('retrieve');
}

// 7. ITI-65 replacement with the MHD UpdateDocumentRefs pattern (MHD 4.2
// 2:3.65.4.1.2.2): the new document's DocumentReference relatesTo replaces
// the old one, and a PATCH entry (IHE.MHD.Patch.Parameters) supersedes the
// old DocumentReference. The client builds the Bundle itself.
{
  const uuid = () => `urn:uuid:${crypto.randomUUID()}`;
  const [listUrl, refUrl, binUrl] = [uuid(), uuid(), uuid()];
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    meta: { profile: ['https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle'] },
    entry: [
      {
        fullUrl: listUrl,
        resource: {
          resourceType: 'List',
          extension: [{ url: 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId', valueIdentifier: { system: 'urn:ietf:rfc:3986', value: fx.replace.sourceId } }],
          identifier: [{ use: 'official', system: 'urn:ietf:rfc:3986', value: listUrl }],
          status: 'current',
          mode: 'working',
          code: { coding: [{ system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes', code: 'submissionset' }] },
          subject: { reference: `Patient/${patient}` },
          date: new Date().toISOString(),
          entry: [{ item: { reference: refUrl } }],
        },
        request: { method: 'POST', url: 'List' },
      },
      {
        fullUrl: refUrl,
        resource: {
          resourceType: 'DocumentReference',
          masterIdentifier: { use: 'usual', system: 'urn:ietf:rfc:3986', value: `urn:oid:${fx.replace.document}` },
          status: 'current',
          subject: { reference: `Patient/${patient}` },
          relatesTo: [{ code: 'replaces', target: { reference: `DocumentReference/${fx.document}` } }],
          content: [{ attachment: { contentType: 'application/hl7-v3+xml', url: binUrl } }],
        },
        request: { method: 'POST', url: 'DocumentReference' },
      },
      {
        fullUrl: binUrl,
        resource: { resourceType: 'Binary', contentType: 'application/hl7-v3+xml', data: fx.replace.xml },
        request: { method: 'POST', url: 'Binary' },
      },
      {
        resource: {
          resourceType: 'Parameters',
          parameter: [{
            name: 'operation',
            part: [
              { name: 'type', valueCode: 'replace' },
              { name: 'path', valueString: 'DocumentReference.status' },
              { name: 'value', valueCode: 'superseded' },
            ],
          }],
        },
        request: { method: 'PATCH', url: `DocumentReference/${fx.document}` },
      },
    ],
  };
  const res = await client.transaction({ body: bundle });
  const locations = res.entry.map((e) => e.response?.location ?? '');
  if (!locations.includes(`DocumentReference/${fx.replace.document}`)) fail('replace', 'no location for the new DocumentReference', res);
  const old = await client.read({ resourceType: 'DocumentReference', id: fx.document });
  if (old.status !== 'superseded') fail('replace', 'the replaced DocumentReference is not superseded', old);
  const b = await client.search({ resourceType: 'DocumentReference', searchParams: { patient, status: 'current' } });
  const ids = docRefs(b).map((r) => r.id);
  if (ids.includes(fx.document) || !ids.includes(fx.replace.document)) fail('replace', 'current documents after the replacement', ids);
  ok('replace');
}

// 8. The access log as IHE BALP AuditEvents: every use above, found by
// the patient, by the document (entity) and by the ITI transaction
// (subtype), and one read back by its id.
{
  const events = (b) => (b.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === 'AuditEvent');
  const byPatient = events(await client.search({ resourceType: 'AuditEvent', searchParams: { patient: `Patient/${patient}` } }));
  const about = byPatient.filter((ev) => (ev.entity ?? []).some((en) => en.what?.reference === `DocumentReference/${fx.document}`));
  if (about.length < 3) fail('audit', `want the provide and the reads of the document in the log, found ${about.length}`, byPatient.map((e) => e.subtype));
  const byEntity = events(await client.search({ resourceType: 'AuditEvent', searchParams: { patient: `Patient/${patient}`, entity: `DocumentReference/${fx.document}` } }));
  if (byEntity.length !== about.length) fail('audit', `entity found ${byEntity.length} events, patient ${about.length} about the document`);
  const retrieves = events(await client.search({ resourceType: 'AuditEvent', searchParams: { patient: `Patient/${patient}`, entity: `DocumentReference/${fx.document}`, subtype: 'urn:ihe:event-type-code|ITI-68' } }));
  if (retrieves.length < 2 || !retrieves.every((ev) => (ev.subtype ?? []).some((c) => c.code === 'ITI-68'))) fail('audit', 'the two retrieves (ITI-68) of the document', retrieves.map((e) => e.subtype));
  const one = await client.read({ resourceType: 'AuditEvent', id: retrieves[0].id });
  if (one.id !== retrieves[0].id || !(one.agent ?? []).some((a) => a.network?.address)) fail('audit', 'the AuditEvent read by id, with the network addresses', one);
  ok('audit');
}

console.log(`fhir-kit-client: all steps passed (${nextToken} requests)`);
