/**
 * The renderer on its desktop transport: the page gets a `window.edc` bridge of the preload's shape
 * ({invoke, onEvent}), here backed by the web host's API instead of Electron IPC (no Electron binary on this
 * machine). No login screen appears, every call goes through `invoke`, and events arrive through `onEvent`.
 */
import { expect, openScreen, PASSWORD, shot, test } from './fixtures.ts';

test('the renderer runs on the preload bridge: no login, calls through invoke, events through onEvent', async ({ lab, page }, info) => {
  lab.device('site-01', 'site');
  lab.device('ra-08', 'field');
  lab.user('ra-08', 'ra', 'research-assistant');
  const siteUrl = await lab.serve('site-01');
  lab.pair('ra-08', 'site-01', siteUrl);
  const url = await lab.serve('ra-08');
  // The stand-in for the main process authenticates once; the page itself never logs in.
  expect((await page.context().request.post(`${url}/api/app/login`, { data: { username: 'ra', password: PASSWORD }, headers: { origin: url } })).ok()).toBe(true);
  await page.addInitScript(() => {
    const w = window as unknown as { edc: unknown; __calls: string[]; __listeners: number };
    w.__calls = [];
    w.__listeners = 0;
    const listeners = new Set<(e: unknown) => void>();
    let source: EventSource | null = null;
    w.edc = Object.freeze({
      invoke: async (name: string, input: unknown) => {
        w.__calls.push(name);
        const res = await fetch(`/api/app/call/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
        return res.json();
      },
      onEvent: (listener: (e: unknown) => void) => {
        listeners.add(listener);
        w.__listeners = listeners.size;
        source ??= new EventSource('/api/app/events');
        source.onmessage = (m) => { for (const l of listeners) l(JSON.parse(String(m.data))); };
        return () => { listeners.delete(listener); w.__listeners = listeners.size; };
      },
    });
  });
  await page.goto(url);
  await expect(page.getByRole('heading', { name: 'Status' })).toBeVisible();
  await expect(page.getByLabel('Password')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Log out' })).toHaveCount(0);

  await openScreen(page, 'Data entry');
  await page.getByTestId('register-open').click();
  const form = page.getByRole('form', { name: 'Register a participant' });
  await form.getByLabel('First name').fill('Boitumelo');
  await form.getByLabel('Surname').fill('Ntsane');
  await form.getByLabel('Date of birth').fill('1988-09-30');
  await form.getByLabel('Identity number').fill('8809305009083');
  await form.getByRole('button', { name: 'Register' }).click();
  await expect(page.getByTestId('subject-title')).toContainText('Boitumelo Ntsane');

  await openScreen(page, 'Status');
  await page.getByTestId('sync-button').click();
  await expect(page.getByTestId('sync-result')).toContainText('Nothing is waiting');
  await shot(page, info, 'desktop-transport-synced');
  const seen = await page.evaluate(() => {
    const w = window as unknown as { __calls: string[]; __listeners: number };
    return { calls: [...new Set(w.__calls)].sort(), listeners: w.__listeners };
  });
  expect(seen.calls).toEqual(expect.arrayContaining(['app.info', 'status.get', 'subjects.register', 'subjects.get', 'sync.run']));
  expect(seen.listeners).toBeGreaterThan(0);
});
