/**
 * Makes the golden schema-1 fixtures under electron/core/testing/golden/v1/ with the code of the day they were made
 * (2026-12-02, SCHEMA_VERSION 1). Kept for reference only: the committed outputs are the fixtures, and every later
 * version must consume them unchanged (electron/core/golden-v1.test.ts). Do not re-run it to "fix" a failing
 * golden test: a failure there means a newer version no longer reads what older laptops wrote.
 *
 *   node --import tsx scripts/make-golden-fixtures.ts
 *
 * Deterministic where the code allows: the key set (fixed keys, ids and dates) and the seeded records (seed()).
 * Ids (UUIDs), nonces and write timestamps are random/clock-based as on a real laptop.
 *
 * Outputs:
 *   keyset.json            the project key set: two keys, the field laptop rotated between its two sessions
 *   envelopes.jsonl        ra-g01's outgoing transactions as they travel (wire JSON, one per line, producerSeq order)
 *   batch/<name>.jsonl.gz  + .manifest.json: `export` of the same transactions (one batch)
 *   field-store/           the laptop's data folder (settings.json + edc-sync.db made by the schema-1 migrations;
 *                          no keys: tests install keyset.json), to be pushed, shared and copied by newer code
 *   expected.json          what a receiver must hold after consuming them: rows per model in stored form
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeySet, KEYSET_FILE, writeKeySetFile } from '../electron/core/crypto/keyset.ts';
import { MODELS, SCHEMA_VERSION } from '../electron/core/domain/registry.ts';
import { Study } from '../electron/core/domain/study.ts';
import { seed } from '../electron/core/seed.ts';
import { DB_FILE, Store } from '../electron/core/store.ts';
import { outgoingWire } from '../electron/core/testing/fixtures.ts';
import { exportBatches } from '../electron/files/export.ts';

const OUT = fileURLToPath(new URL('../electron/core/testing/golden/v1/', import.meta.url));
const PRODUCER = 'ra-g01';

const key = (label: string) => createHash('sha256').update(`edc-sync golden v1 ${label}`).digest('base64');
const K1 = { keyId: 'k-20260105-901d0001', created: '2026-01-05T06:00:00.000Z', key: key('key 1') };
const K2 = { keyId: 'k-20260301-901d0002', created: '2026-03-01T06:00:00.000Z', key: key('key 2') };
const base = { format: 'edc-sync-keyset', version: 1, projectId: '6f1c2a3e-0b4d-4c5e-8f60-71829304a5b6', lookupKey: key('lookup') } as const;
const keysBefore = new KeySet({ ...base, activeKeyId: K1.keyId, keys: [K1] });
const keysAfter = new KeySet({ ...base, activeKeyId: K2.keyId, keys: [K1, K2] });

rmSync(OUT, { recursive: true, force: true });
mkdirSync(path.join(OUT, 'batch'), { recursive: true });
mkdirSync(path.join(OUT, 'field-store'), { recursive: true });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'edc-golden-'));
try {
  const field = Store.init(path.join(tmp, PRODUCER), 'field', PRODUCER, { hostname: `${PRODUCER}.golden`, siteCode: 'G01' });
  // Session 1 with the first key: subjects, consent, visits with vital signs, medical history, requisitions,
  // corrections and deletes (seed), then an edit of a visit that already has children.
  writeKeySetFile(path.join(field.keyDir, KEYSET_FILE), keysBefore);
  seed(field, 4, { seed: 1 });
  const study = new Study(field);
  const visit = field.sql.prepare("SELECT id FROM visit ORDER BY visit_datetime LIMIT 1").get() as { id: string };
  study.write.update('edc.visit', visit.id, { reason: 'unscheduled' }, { user: 'ra.golden' });
  // The laptop rotates its key (keys rotate) and works on: the rest is encrypted with the second key.
  writeKeySetFile(path.join(field.keyDir, KEYSET_FILE), keysAfter);
  field.reloadKeys();
  seed(field, 3, { seed: 2 });
  const req = field.sql.prepare('SELECT id FROM specimen_requisition ORDER BY drawn_datetime DESC LIMIT 1').get() as { id: string };
  study.write.delete('edc.specimen_requisition', req.id, { user: 'ra.golden' });

  const envelopes = outgoingWire(field);
  writeFileSync(path.join(OUT, 'envelopes.jsonl'), envelopes.map((e) => JSON.stringify(e)).join('\n') + '\n');
  writeFileSync(path.join(OUT, KEYSET_FILE), keysAfter.serialize());

  const exported = exportBatches(field, path.join(tmp, 'batch'));
  for (const f of readdirSync(exported.dir).filter((x) => !x.startsWith('.'))) copyFileSync(path.join(exported.dir, f), path.join(OUT, 'batch', f));

  const rows: Record<string, unknown[]> = {};
  for (const m of MODELS.values()) rows[m.txName] = field.sql.prepare(`SELECT * FROM "${m.tableName}" ORDER BY id`).all();
  const byAction: Record<string, number> = {};
  for (const e of envelopes) byAction[`${e.txName} ${e.action}`] = (byAction[`${e.txName} ${e.action}`] ?? 0) + 1;
  writeFileSync(path.join(OUT, 'expected.json'), `${JSON.stringify({
    madeWith: { schemaVersion: SCHEMA_VERSION, madeAt: new Date().toISOString() },
    producer: PRODUCER, transactions: envelopes.length, keyIds: [K1.keyId, K2.keyId], byAction, rows,
  }, null, 1)}\n`);

  field.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  field.sql.prepare('VACUUM INTO ?').run(path.join(OUT, 'field-store', DB_FILE));
  copyFileSync(path.join(field.dir, 'settings.json'), path.join(OUT, 'field-store', 'settings.json'));
  field.close();
  console.log(`golden v1: ${envelopes.length} transactions of ${PRODUCER}, ${exported.batches.length} batch → ${OUT}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
