// The accounts, projects and tokens the e2e suite and the benchmark run against.

import {
  TESTABLE_ON_PROJECT, TESTABLE_ON_BUCKET, ADC_CLIENT_ID, EMAIL_SCOPE, CLOUD_PLATFORM, CLOUD_PLATFORM_READ_ONLY,
} from './fake-google.mjs';

// Obviously fake tokens (never Google-shaped, so no scanner mistakes them for secrets), long enough to search for.
export const TOKENS = Object.freeze({
  alice: 'fake-e2e-token-ALICEtokenQ1w2e3r4t5y6u7i8o9p0',
  bob: 'fake-e2e-token-BOBtokenZ9x8c7v6b5n4m3l2k1j0h',
  carol: 'fake-e2e-token-CAROLexpiredT0k3nAAAABBBBCCCC', // expired before it is pasted
  dave: 'fake-e2e-token-DAVEexpiresLaterDDDDEEEEFFFF00', // expires between paste and Check
  erin: 'fake-e2e-token-ERINownerLikeGGGGHHHHIIIIJJJJ', // project owner-like: objects / actAs elsewhere
  frank: 'fake-e2e-token-FRANKnoEnableKKKKLLLLMMMMNNNN', // lacks serviceusage.services.enable
  gina: 'fake-e2e-token-GINAnoServicesGetOOOOPPPPQQQQ', // lacks serviceusage.services.get
});

export const ACCOUNTS = Object.freeze({
  alice: { sub: '111', email: 'alice@example.com' },
  bob: { sub: '222', email: 'bob@example.com' },
  carol: { sub: '333', email: 'carol@example.com' },
  dave: { sub: '444', email: 'dave@example.com' },
  erin: { sub: '555', email: 'erin@example.com' },
  frank: { sub: '666', email: 'frank@example.com' },
  gina: { sub: '777', email: 'gina@example.com' },
});

export const SEED_MISSING = Object.freeze(['compute.firewalls.create', 'compute.firewalls.delete']);
export const ENABLED = Object.freeze([
  'compute.googleapis.com', 'cloudresourcemanager.googleapis.com', 'iam.googleapis.com',
  'storage.googleapis.com', 'storage-api.googleapis.com', 'serviceusage.googleapis.com',
  'tpu.googleapis.com',
]);

const everything = ['*'];
const project = (number, grants, { off = [] } = {}) => ({
  number, grants, enabledServices: ENABLED.filter((s) => !off.includes(s)),
});
const allBut = (...left) => TESTABLE_ON_PROJECT.filter((p) => !left.includes(p));

/**
 * A project owner as often set up: everything at project level except what owners are usually
 * given elsewhere (object access per bucket, actAs per service account).
 */
export const OWNER_LIKE = Object.freeze(TESTABLE_ON_PROJECT.filter((p) => !p.startsWith('storage.objects.')
  && p !== 'storage.buckets.get' && p !== 'iam.serviceAccounts.actAs'));

/** 1,000 valid permission names for the custom-list scenario (made testable by fake.extraTestable). */
export const BULK = Object.freeze(Array.from({ length: 1000 }, (_, i) => `e2ebulk.items.get${String(i).padStart(4, '0')}`));
/** The one of BULK that alice lacks on custom-bulk-9. */
export const BULK_MISSING = 'e2ebulk.items.get0777';

/**
 * SkyPilot's documented minimal role (docs/.../cloud-permissions/gcp.rst step 3, 31 names) and its
 * GCS step: no serviceusage.services.get (../shared/reference/skypilot/SKYPILOT.md §1).
 */
export const DOCS_MINIMAL_ROLE = Object.freeze([
  'compute.disks.create', 'compute.disks.list', 'compute.firewalls.create', 'compute.firewalls.delete',
  'compute.firewalls.get', 'compute.instances.create', 'compute.instances.delete', 'compute.instances.get',
  'compute.instances.list', 'compute.instances.setLabels', 'compute.instances.setMetadata',
  'compute.instances.setServiceAccount', 'compute.instances.start', 'compute.instances.stop',
  'compute.networks.get', 'compute.networks.list', 'compute.networks.getEffectiveFirewalls',
  'compute.globalOperations.get', 'compute.subnetworks.use', 'compute.subnetworks.list',
  'compute.subnetworks.useExternalIp', 'compute.projects.get', 'compute.zoneOperations.get', 'iam.roles.get',
  'iam.serviceAccounts.actAs', 'iam.serviceAccounts.get', 'serviceusage.services.enable',
  'serviceusage.services.list', 'serviceusage.services.use', 'resourcemanager.projects.get',
  'resourcemanager.projects.getIamPolicy',
]);
export const DOCS_GCS = Object.freeze(['storage.buckets.create', 'storage.buckets.get', 'storage.buckets.delete',
  'storage.objects.create', 'storage.objects.update', 'storage.objects.delete', 'storage.objects.get',
  'storage.objects.list']);

export const saEmail = (projectId) => `skypilot-v1@${projectId}.iam.gserviceaccount.com`;

/** A fresh copy of the world, for fake.setScenario(). */
export function world() {
  const { alice, bob, carol, dave, erin, frank, gina } = ACCOUNTS;
  return {
    accounts: {
      [TOKENS.alice]: { ...alice },
      [TOKENS.bob]: { ...bob },
      [TOKENS.carol]: { ...carol, expired: true },
      [TOKENS.dave]: { ...dave },
      [TOKENS.erin]: { ...erin },
      [TOKENS.frank]: { ...frank },
      [TOKENS.gina]: { ...gina },
      ...extraAccounts(),
    },
    projects: {
      // The seed story: alice holds all storage and compute permissions except the firewall pair.
      'demo-seed-1': project('410000000001', {
        [alice.sub]: TESTABLE_ON_PROJECT.filter((p) => !SEED_MISSING.includes(p)),
        [bob.sub]: everything,
      }),
      'demo-full-2': project('410000000002', { [alice.sub]: everything, [dave.sub]: everything }),
      'demo-crm-off-3': project('410000000003', { [alice.sub]: everything }),
      'demo-rate-4': project('410000000004', { [alice.sub]: everything }),
      // Benchmark projects: never checked by the suite, so always cold.
      'bench-cold-5': project('410000000005', { [alice.sub]: TESTABLE_ON_PROJECT.filter((p) => !SEED_MISSING.includes(p)) }),
      'bench-bulk-6': project('410000000006', { [alice.sub]: [...BULK] }),
      'bench-docs-7': project('410000000007', { [alice.sub]: [...OWNER_LIKE] }),
      // Options: alice lacks only compute.reservations.list.
      'opts-resv-7': project('410000000017', { [alice.sub]: allBut('compute.reservations.list') }),
      // TPUs: the TPU API is off and frank cannot enable APIs.
      'opts-tpu-8': project('410000000018', { [frank.sub]: allBut('serviceusage.services.enable') }, { off: ['tpu.googleapis.com'] }),
      // 1,000 custom permissions: alice holds all but one.
      'custom-bulk-9': project('410000000019', { [alice.sub]: BULK.filter((p) => p !== BULK_MISSING) }),
      // No false verdicts: erin is owner-like.
      'owner-nobkt-10': project('410000000020', { [erin.sub]: [...OWNER_LIKE] }),
      'owner-bkt-11': project('410000000021', { [erin.sub]: [...OWNER_LIKE] }),
      // The Compute Engine API is off: alice may enable it, frank may not.
      'apis-off-12': project('410000000022', {
        [alice.sub]: everything, [frank.sub]: allBut('serviceusage.services.enable'),
      }, { off: ['compute.googleapis.com'] }),
      // gina holds everything but serviceusage.services.get: batchGet would refuse her, services.list does not.
      'su-denied-13': project('410000000023', { [gina.sub]: allBut('serviceusage.services.get') }),
      // gina holds exactly SkyPilot's documented minimal role plus its GCS step.
      'minimal-role-14': project('410000000024', { [gina.sub]: [...DOCS_MINIMAL_ROLE, ...DOCS_GCS] }),
      // Another team's project: erin holds nothing there; its bucket is other-team-15-bkt.
      'other-team-15': project('410000000025', { [bob.sub]: everything }),
      // bob may launch VMs but not create buckets.
      'compute-only-16': project('410000000026', { [bob.sub]: allBut('storage.buckets.create', 'storage.buckets.delete') }),
      // Compute Engine off, and Resource Manager failing (a fault the scenario injects).
      'crm-fail-17': project('410000000027', { [alice.sub]: everything }, { off: ['compute.googleapis.com'] }),
      // No billing account linked.
      'no-billing-18': { ...project('410000000028', { [alice.sub]: everything }), billing: false },
      // Two identities: heidi's ADC token lacks the firewall pair, bob's gcloud CLI token has everything.
      'two-ids-19': project('410000000029', {
        [EXTRA_ACCOUNTS.heidi.sub]: TESTABLE_ON_PROJECT.filter((p) => !SEED_MISSING.includes(p)),
        [bob.sub]: everything,
      }),
    },
    buckets: {
      'demo-seed-1-skypilot': { grants: { [alice.sub]: [...TESTABLE_ON_BUCKET], [bob.sub]: everything } },
      'owner-bkt-11-jobs': { grants: { [erin.sub]: [...TESTABLE_ON_BUCKET] } },
      'owner-bkt-11-locked': { grants: {} }, // exists; its policy grants erin nothing
      // 'owner-bkt-11-gone' does not exist
      'other-team-15-bkt': { project: 'other-team-15', grants: {} },
      'compute-only-16-jobs': { project: 'compute-only-16', grants: {} },
      'bench-docs-7-jobs': { grants: { [alice.sub]: [...TESTABLE_ON_BUCKET] } },
    },
    serviceAccounts: {
      'skypilot-v1@demo-seed-1.iam.gserviceaccount.com': {
        grants: { [alice.sub]: ['iam.serviceAccounts.actAs'], [bob.sub]: everything },
      },
      [saEmail('owner-bkt-11')]: { grants: { [erin.sub]: ['iam.serviceAccounts.actAs'] } },
      [saEmail('bench-docs-7')]: { grants: { [alice.sub]: ['iam.serviceAccounts.actAs'] } },
    },
  };
}

// ----- Accounts for the newer identity stories (additive: world() is unchanged) -----

/** Tokens whose accounts extraAccounts() describes; merge them into world().accounts. */
export const EXTRA_TOKENS = Object.freeze({
  heidi: 'fake-e2e-token-HEIDIadcTokenRRRRSSSSTTTTUUUU', // an ADC token (gcloud auth application-default)
  ivan: 'fake-e2e-token-IVANreadOnlyVVVVWWWWXXXXYYYY', //   cloud-platform.read-only (IAM / Billing / Compute refuse it)
  judy: 'fake-e2e-token-JUDYnoEmailZZZZAAAABBBBCCCC', //    no email scope: tokeninfo has no sub / email
});

export const EXTRA_ACCOUNTS = Object.freeze({
  heidi: { sub: '888', email: 'heidi@example.com' },
  ivan: { sub: '999', email: 'ivan@example.com' },
  judy: { sub: '1010', email: 'judy@example.com' },
});

/** token -> account for EXTRA_TOKENS, e.g. `w.accounts = { ...w.accounts, ...extraAccounts() }`. */
export function extraAccounts() {
  const { heidi, ivan, judy } = EXTRA_ACCOUNTS;
  return {
    [EXTRA_TOKENS.heidi]: { ...heidi, azp: ADC_CLIENT_ID },
    [EXTRA_TOKENS.ivan]: { ...ivan, scopes: ['openid', EMAIL_SCOPE, CLOUD_PLATFORM_READ_ONLY] },
    [EXTRA_TOKENS.judy]: { ...judy, scopes: [CLOUD_PLATFORM] },
  };
}
