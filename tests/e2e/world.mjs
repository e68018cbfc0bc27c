// The accounts, projects and tokens the e2e suite and the benchmark run against.

import { TESTABLE_ON_PROJECT, TESTABLE_ON_BUCKET } from './fake-google.mjs';

// Fake tokens, shaped like Google's (ya29. + url-safe text), long enough to search for.
export const TOKENS = Object.freeze({
  alice: 'ya29.a0AfB_e2eALICEtokenQ1w2e3r4t5y6u7i8o9p0',
  bob: 'ya29.a0AfB_e2eBOBtokenZ9x8c7v6b5n4m3l2k1j0h',
  carol: 'ya29.a0AfB_e2eCAROLexpiredT0k3nAAAABBBBCCCC', // expired before it is pasted
  dave: 'ya29.a0AfB_e2eDAVEexpiresLaterDDDDEEEEFFFF00', // expires between paste and Check
});

export const ACCOUNTS = Object.freeze({
  alice: { sub: '111', email: 'alice@example.com' },
  bob: { sub: '222', email: 'bob@example.com' },
  carol: { sub: '333', email: 'carol@example.com' },
  dave: { sub: '444', email: 'dave@example.com' },
});

export const SEED_MISSING = Object.freeze(['compute.firewalls.create', 'compute.firewalls.delete']);
export const ENABLED = Object.freeze([
  'compute.googleapis.com', 'cloudresourcemanager.googleapis.com', 'iam.googleapis.com',
  'storage.googleapis.com', 'storage-api.googleapis.com', 'serviceusage.googleapis.com',
  'tpu.googleapis.com',
]);

const everything = ['*'];
const project = (number, grants) => ({ number, grants, enabledServices: [...ENABLED] });

/** A fresh copy of the world, for fake.setScenario(). */
export function world() {
  const { alice, bob, carol, dave } = ACCOUNTS;
  return {
    accounts: {
      [TOKENS.alice]: { ...alice },
      [TOKENS.bob]: { ...bob },
      [TOKENS.carol]: { ...carol, expired: true },
      [TOKENS.dave]: { ...dave },
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
    },
    buckets: {
      'demo-seed-1-skypilot': { grants: { [alice.sub]: [...TESTABLE_ON_BUCKET], [bob.sub]: everything } },
    },
    serviceAccounts: {
      'skypilot-v1@demo-seed-1.iam.gserviceaccount.com': {
        grants: { [alice.sub]: ['iam.serviceAccounts.actAs'], [bob.sub]: everything },
      },
    },
  };
}
