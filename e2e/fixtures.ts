/**
 * E2E fixtures: a fresh temp folder per test, real devices made with the CLI, real servers, and page objects for
 * the screens the stories walk through. Every helper uses 127.0.0.1 only.
 */
import { test as base, expect, type Locator, type Page, type TestInfo } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MODELS } from '../electron/core/domain/registry.ts';
import { BIN, startServer, type ServerProc } from '../electron/core/testing/processes.ts';

export const PASSWORD = 'correct horse battery';

export class Lab {
  readonly root = mkdtempSync(path.join(os.tmpdir(), 'edc-e2e-'));
  private readonly servers: ServerProc[] = [];

  dir(name: string): string {
    return path.join(this.root, name);
  }

  cli(device: string, args: string[], input?: string, env: Record<string, string> = {}): string {
    return execFileSync(process.execPath, [BIN, '--data', this.dir(device), ...args], { encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, EDC_SYNC_USER: 'e2e', ...env } });
  }

  json<T>(device: string, args: string[]): T {
    return JSON.parse(this.cli(device, [...args, '--json'])) as T;
  }

  /** A device with the study keys (the first one made creates them). */
  device(name: string, role: 'field' | 'middleman' | 'site' | 'central'): void {
    this.cli(name, ['init', '--role', role, '--device-id', name]);
    const keyFile = path.join(this.root, 'study-keys.json');
    if (!this.keysMade) {
      this.cli(name, ['keys', 'create']);
      this.cli(name, ['keys', 'export', '--out', keyFile]);
      this.keysMade = true;
    } else {
      this.cli(name, ['keys', 'import', keyFile]);
    }
  }
  private keysMade = false;

  user(device: string, username: string, role: string): void {
    this.cli(device, ['user', 'add', '--username', username, '--role', role], `${PASSWORD}\n`);
  }

  /** Starts the device's server (site, central, or a laptop's web host); `port` to come back at the same address. */
  async serve(device: string, env: Record<string, string> = {}, port = 0): Promise<string> {
    const s = await startServer(this.dir(device), port, env);
    this.servers.push(s);
    return s.url;
  }

  /** Stops a server this lab started (a site that goes away mid-story). */
  async stop(url: string): Promise<void> {
    const s = this.servers.find((x) => x.url === url);
    if (!s) throw new Error(`no server at ${url}`);
    this.servers.splice(this.servers.indexOf(s), 1);
    await s.kill('SIGTERM');
  }

  /** The server's administrator issues a code for this device's id and role; the device pairs with it. */
  pair(device: string, server: string, serverUrl: string): void {
    const { role, deviceId } = JSON.parse(readFileSync(path.join(this.dir(device), 'settings.json'), 'utf8')) as { role: string; deviceId: string };
    const { code } = this.json<{ code: string }>(server, ['pairing-code', '--device-id', deviceId, '--role', role]);
    this.cli(device, ['pair', '--server', serverUrl, '--code', code]);
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.kill('SIGTERM')));
    rmSync(this.root, { recursive: true, force: true });
  }
}

export const test = base.extend<{ lab: Lab }>({
  // eslint-disable-next-line no-empty-pattern
  lab: async ({}, use) => {
    const lab = new Lab();
    await use(lab);
    await lab.close();
  },
});
export { expect };

/** Every synced model's field names as the code spells them (firstName, drawnDatetime, dob, …). */
const FIELD_NAMES = new Set([...MODELS.values()].flatMap((m) => m.columns.flatMap((c) => [c.js, c.sql])));

/**
 * A decrypted change as a person reads it: no field shown by its name in the code. No word of its text is a field's
 * code name in camelCase or snake_case (drawnDatetime, first_name), and no table cell is exactly a field's code name
 * (catches one-word names such as "dob"). Units such as "mmHg" are words, not field names.
 */
export async function expectNoFieldNames(content: Locator): Promise<void> {
  const words = (await content.innerText()).match(/[A-Za-z0-9_]+/g) ?? [];
  expect(words.filter((w) => /[A-Z_]/.test(w) && FIELD_NAMES.has(w))).toEqual([]);
  const cells = (await content.getByRole('cell').allInnerTexts()).map((c) => c.trim());
  expect(cells.length).toBeGreaterThan(0);
  expect(cells.filter((c) => FIELD_NAMES.has(c))).toEqual([]);
}

/** A full-page screenshot attached to the test report and kept under test-results/e2e/. */
export async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  const file = info.outputPath(`${name}.png`);
  // The app shell's header is fixed: grow the viewport to the page instead of stitching a full-page image.
  const size = page.viewportSize() ?? { width: 1280, height: 720 };
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height, size.height), 4000) });
  await page.screenshot({ path: file });
  await page.setViewportSize(size);
  await info.attach(name, { path: file, contentType: 'image/png' });
}

export async function login(page: Page, url: string, username: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('user')).toContainText(username);
}

export async function openScreen(page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: label }).click();
  await expect(page.getByRole('heading', { level: 2 }).first()).toBeVisible();
}

/** Data entry: register a subject, add a visit, requisition `panels`; returns the requisition barcodes. */
export async function registerWithSpecimens(page: Page, info: TestInfo, person: { first: string; last: string; identity: string }, panels: string[]): Promise<string[]> {
  await openScreen(page, 'Data entry');
  await page.getByTestId('register-open').click();
  const form = page.getByRole('form', { name: 'Register a participant' });
  await form.getByLabel('First name').fill(person.first);
  await form.getByLabel('Surname').fill(person.last);
  await form.getByLabel('Date of birth').fill('1990-04-12');
  await form.getByLabel('Identity number').fill(person.identity);
  await form.getByRole('button', { name: 'Register' }).click();
  await expect(page.getByTestId('subject-title')).toContainText(`${person.first} ${person.last}`);
  await page.getByTestId('consent-save').click();
  await expect(page.getByTestId('consents')).toContainText('version 1.0');
  await page.getByTestId('add-visit').click();
  await expect(page.getByTestId('visit')).toHaveCount(1);
  for (const p of panels) await page.getByRole('checkbox', { name: new RegExp(`^${p} \\(`) }).check();
  await page.getByTestId('requisition-submit').click();
  await expect(page.getByTestId('requisition-id')).toHaveCount(panels.length);
  await expect(page.getByTestId('specimen-label').first().locator('svg rect').first()).toBeAttached();
  await shot(page, info, 'labels');
  return page.getByTestId('requisition-id').allTextContents();
}
