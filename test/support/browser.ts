// A headless Chromium for the tests that look at report.html the way a reader would. A
// Chromium already on the machine is used when there is one (it starts faster); otherwise the
// one that `npm ci` installed inside @sparticuz/chromium, so a fresh clone needs nothing else.
// Neither ever reaches the network: the flags switch off Chromium's own background traffic.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const QUIET = [
  '--headless',
  '--no-sandbox',
  '--no-zygote',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** STRATA_CHROMIUM if set, else the first Chromium on PATH, else null. */
export function systemChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.STRATA_CHROMIUM) return env.STRATA_CHROMIUM;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean))
    for (const name of SYSTEM_NAMES) if (executable(join(dir, name))) return join(dir, name);
  return null;
}

export interface LaunchedBrowser {
  browser: Browser;
  /** Which Chromium: the system's path, or the packaged one. */
  source: string;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  const system = systemChromium();
  if (system)
    return { browser: await chromium.launch({ executablePath: system, args: QUIET }), source: system };
  // Unpacked into the temporary folder on first use (a few seconds), then reused.
  const packaged = (await import('@sparticuz/chromium')).default;
  const executablePath = await packaged.executablePath();
  return {
    browser: await chromium.launch({ executablePath, args: [...QUIET, '--single-process'] }),
    source: `@sparticuz/chromium (${executablePath})`,
  };
}
