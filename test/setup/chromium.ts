/**
 * Which Chromium the browser tests drive. In order: `KEYBOUND_TEST_CHROMIUM`; Debian's
 * `/usr/bin/chromium`; the usual Chromium and Chrome locations on Linux and macOS; and last the build
 * the `@sparticuz/chromium` dev dependency ships (unpacked from the package, never downloaded).
 */
import { accessSync, constants, statSync } from 'node:fs';

export const CHROMIUM_CANDIDATES: readonly string[] = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/opt/google/chrome/chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

export type ChromiumChoice =
  | { readonly source: 'setting'; readonly path: string }
  | { readonly source: 'installed'; readonly path: string }
  | { readonly source: 'package' };

/**
 * An executable regular file. The path may be a link (Debian's `/usr/bin/chromium` is a link to a
 * shell script); `/dev/null` bound over it, as a test of this lookup does, is a device, not a browser.
 */
export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Picks the browser. `setting` is KEYBOUND_TEST_CHROMIUM: when it is set it is taken as it is (a
 * wrong path then fails loudly in the test rather than quietly running another browser).
 */
export function chooseChromium(setting: string | undefined, usable: (path: string) => boolean = isExecutableFile): ChromiumChoice {
  if (setting) return { source: 'setting', path: setting };
  const found = CHROMIUM_CANDIDATES.find(usable);
  return found ? { source: 'installed', path: found } : { source: 'package' };
}

/** Unpacks the Chromium that `@sparticuz/chromium` ships (into the OS temp folder) and returns its path. */
export async function packagedChromium(): Promise<string> {
  const { default: packaged } = await import('@sparticuz/chromium');
  return packaged.executablePath();
}
