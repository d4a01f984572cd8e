import { defineConfig } from '@playwright/test';

// E2E in Debian's Chromium against real processes (site server, field/middleman web hosts) that each spec starts
// on 127.0.0.1. Run `npm run build:renderer` first (npm run test:e2e does). Screenshots of every step land in
// test-results/e2e/ (CI keeps them as artifacts).
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  timeout: 120_000,
  expect: { timeout: 20_000 },
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e-results.json' }]],
  use: {
    headless: true,
    screenshot: 'on',
    reducedMotion: 'reduce',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
});
