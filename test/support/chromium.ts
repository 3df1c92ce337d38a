/**
 * Debian's Chromium driven by playwright-core, for the dashboard's browser tests, its screenshot
 * script and its benchmark. No browser is ever downloaded: CI installs `chromium` with apt
 * (.ci/apt-packages). A missing binary is an error naming the fix, never a silent skip.
 * Flags: the ones Chromium needs on a closed network (no background requests, no QUIC, no GPU);
 * playwright adds --headless, --no-sandbox (root) and a fresh temporary --user-data-dir.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install Debian's package (apt-get install chromium; .ci/apt-packages lists it) or set CHROMIUM_PATH. The browser tests never download a browser.`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Where failed tests leave their screenshots (outside the repository unless told). */
export const SCREENSHOT_DIR = process.env.VIGIL_SCREENSHOT_DIR ?? join(tmpdir(), 'vigil-browser-failures');

/** Save a screenshot of `page` named after the test; answers the path (or why it failed). */
export async function screenshotOnFailure(page: Page | null, testName: string): Promise<string> {
  if (!page || page.isClosed()) return 'no page';
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${testName.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 80)}.png`);
  try {
    await page.screenshot({ path, fullPage: true });
    console.error(`screenshot of the failed test: ${path}`);
    return path;
  } catch (err) {
    return `screenshot failed: ${(err as Error).message}`;
  }
}
