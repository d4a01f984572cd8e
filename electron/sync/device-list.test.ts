/**
 * Offline trust for the field (issue 10, deliverable 5): the site signs its device list, drivers carry it, and a
 * laptop that has not spoken to the site since a driver was revoked refuses that driver, with the right share code.
 * Also refused: a driver the site does not know, a device using a real driver's name without its key, and lists
 * that are forged, altered or older. Real stores, a real site server and real share endpoints on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isEdcError } from '../../shared/errors.ts';
import { acceptDeviceList, DEVICE_LIST_DOMAIN, storedDeviceList } from '../core/device-list.ts';
import { signDocumentWith } from '../core/crypto/signed-json.ts';
import { seed } from '../core/seed.ts';
import { Store } from '../core/store.ts';
import { TestDirs } from '../core/testing/fixtures.ts';
import { KEYSET_FILE, writeKeySetFile } from '../core/crypto/keyset.ts';
import { issuePairingCode, revokeDevice } from '../server/auth.ts';
import { startSiteServer, type SiteServer } from '../server/site-server.ts';
import { pull } from './pull.ts';
import { push } from './push.ts';
import { pair } from './server-link.ts';
import { startShare } from './share.ts';
import path from 'node:path';

describe('the site\'s signed device list: drivers a laptop trusts offline', () => {
  let dirs: TestDirs;
  let site: Store;
  let server: SiteServer;
  before(async () => {
    dirs = new TestDirs();
    site = dirs.store('site', 'site-d');
    server = await startSiteServer(site, '127.0.0.1', 0);
  });
  after(async () => {
    await server.close();
    dirs.cleanup();
  });
  const pairWith = async (s: Store) => { await pair(s, server.url, issuePairingCode(site, { deviceId: s.deviceId, role: s.role }).code); };
  const incoming = (s: Store) => (s.sql.prepare('SELECT count(*) AS n FROM incoming_transaction').get() as { n: number }).n;
  /** The driver pulls from the laptop with the right code; resolves with the error code when refused. */
  async function pullFrom(laptop: Store, mm: Store): Promise<string | null> {
    const share = await startShare(laptop, { host: '127.0.0.1', port: 0, idleMs: 5_000 });
    try {
      await pull(mm, share.url, share.code);
      return null;
    } catch (e) {
      if (isEdcError(e)) return `${e.code}: ${e.message}`;
      throw e;
    } finally {
      await share.stop();
    }
  }

  it('a revoked driver is refused by a laptop that never spoke to the site since; the list travels with the other driver', async () => {
    const laptop = dirs.store('field', 'ra-d1');
    const a = dirs.store('middleman', 'mm-da');
    const b = dirs.store('middleman', 'mm-db');
    for (const s of [laptop, a, b]) await pairWith(s);
    seed(laptop, 2, { seed: 1 });
    await push(laptop); // the laptop's last contact with the site: list 1, both drivers good
    const first = storedDeviceList(laptop)!;
    assert.equal(first.issuer, 'site-d');
    assert.equal(first.devices.find((d) => d.deviceId === 'mm-da')?.revoked, false);
    seed(laptop, 2, { seed: 2 });
    assert.equal(await pullFrom(laptop, a), null, 'driver A pulls');

    // The site revokes driver A (a stolen laptop). Driver B syncs at the site, then visits the laptop.
    revokeDevice(site, 'mm-da');
    await push(b);
    assert.ok(storedDeviceList(b)!.seq > first.seq);
    seed(laptop, 2, { seed: 3 });
    assert.equal(await pullFrom(laptop, b), null, 'driver B pulls, and hands the laptop the newer list');
    assert.equal(storedDeviceList(laptop)!.seq, storedDeviceList(b)!.seq);

    // Driver A comes with the right code: refused, nothing pulled, the laptop's data waits for a good driver.
    seed(laptop, 1, { seed: 4 });
    const before = incoming(a);
    const refused = await pullFrom(laptop, a);
    assert.match(refused ?? '', /^DRIVER_REFUSED: mm-da is revoked at site site-d/);
    assert.equal(incoming(a), before);
    assert.equal(await pullFrom(laptop, b), null);
  });

  it('a driver with the site\'s list does not pull a revoked laptop, nor a device using a laptop\'s name with another key', async () => {
    const laptop = dirs.store('field', 'ra-d3');
    const mm = dirs.store('middleman', 'mm-dd');
    for (const s of [laptop, mm]) await pairWith(s);
    seed(laptop, 1, { seed: 6 });
    // Someone sets up a laptop calling itself ra-d3 (with the study keys, not ra-d3's device key).
    const fake = dirs.track(Store.init(dirs.path('fake-ra-d3'), 'field', 'ra-d3'));
    writeKeySetFile(path.join(fake.keyDir, KEYSET_FILE), dirs.keys);
    seed(fake, 1, { seed: 7 });
    await push(mm); // the driver's list names ra-d3 with its real key
    const before = incoming(mm);
    assert.match(await pullFrom(fake, mm) ?? '', /^SIGNATURE_INVALID: ra-d3 presented a device key other than the one site site-d has on record/);
    assert.equal(incoming(mm), before, 'nothing of the fake laptop stored');
    assert.equal(await pullFrom(laptop, mm), null, 'the real laptop is pulled');
    revokeDevice(site, 'ra-d3');
    await push(mm);
    seed(laptop, 1, { seed: 8 });
    assert.match(await pullFrom(laptop, mm) ?? '', /^DEVICE_REVOKED: ra-d3 is revoked at site site-d/);
  });

  it('an unknown driver, an impostor using a driver\'s name, and forged, altered or older lists change nothing', async () => {
    const laptop = dirs.store('field', 'ra-d2');
    const b = dirs.store('middleman', 'mm-dc');
    for (const s of [laptop, b]) await pairWith(s);
    seed(laptop, 1, { seed: 5 });
    await push(laptop);
    const held = storedDeviceList(laptop)!;
    // Never paired with the site.
    const stranger = dirs.store('middleman', 'mm-stranger');
    assert.match(await pullFrom(laptop, stranger) ?? '', /^DRIVER_REFUSED: mm-stranger is not a device of site site-d/);
    // A device calling itself mm-dc, with the study keys but not mm-dc's device key.
    const impostor = dirs.track(Store.init(dirs.path('impostor'), 'middleman', 'mm-dc'));
    writeKeySetFile(path.join(impostor.keyDir, KEYSET_FILE), dirs.keys);
    assert.match(await pullFrom(laptop, impostor) ?? '', /^DRIVER_REFUSED: the device calling itself mm-dc does not hold mm-dc's key/);
    // Lists: forged under another key (claiming the site), altered after signing, older: none replaces the held one.
    const forged = signDocumentWith(impostor.signingKey, DEVICE_LIST_DOMAIN, { ...held, seq: held.seq + 10, publicKey: undefined, sig: undefined });
    assert.equal(acceptDeviceList(laptop, forged), false);
    const altered = { ...held, seq: held.seq + 1, devices: held.devices.map((d) => ({ ...d, revoked: false })) };
    assert.equal(acceptDeviceList(laptop, altered), false);
    assert.equal(acceptDeviceList(laptop, { ...held, seq: 1 }), false);
    assert.equal(acceptDeviceList(laptop, { not: 'a list' }), false);
    assert.deepEqual(storedDeviceList(laptop), held);
    assert.equal(await pullFrom(laptop, b), null, 'the real driver still pulls');
  });
});
