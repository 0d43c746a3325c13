// A headless Chromium for the tests that look at report.html the way a reader would. A
// Chromium already on the machine is used when there is one (it starts faster); otherwise the
// one that `npm ci` installed inside @sparticuz/chromium, so a fresh clone needs nothing else.
// Neither ever reaches the network: the flags switch off Chromium's own background traffic.
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
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
  const executablePath = await unpackedChromium();
  return {
    browser: await chromium.launch({ executablePath, args: [...QUIET, '--single-process'] }),
    source: `@sparticuz/chromium (${executablePath})`,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The packaged Chromium, unpacked into the temporary folder on first use (a few seconds) and
 * reused after. The package reuses whatever file is at its path, so a copy cut short (a test
 * killed while unpacking, or two test files unpacking at once) would fail every later launch:
 * unpacking is done under a lock shared by every process on the machine, and a copy counts
 * only once a note of its size, written after it was complete, agrees with it.
 */
async function unpackedChromium(): Promise<string> {
  const binary = join(tmpdir(), 'chromium');
  const note = join(tmpdir(), 'chromium.strata-complete');
  const lock = join(tmpdir(), 'chromium.strata-lock');
  for (let waited = 0; ; waited += 250) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed process is taken over after two minutes.
      if (waited > 120_000) rmSync(lock, { recursive: true, force: true });
      await sleep(250);
    }
  }
  try {
    const complete =
      existsSync(binary) && existsSync(note) && readFileSync(note, 'utf8') === String(statSync(binary).size);
    if (!complete) rmSync(binary, { force: true });
    const packaged = (await import('@sparticuz/chromium')).default;
    const path = await packaged.executablePath();
    writeFileSync(note, String(statSync(path).size));
    return path;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
