/**
 * A User-Agent header's browser and system family, read one way for everything that looks at it:
 * the risk signals (`new_device`, `session_agent_changed`), the audit trail's `risk.device`, and the
 * pages that say where a session or sign-in came from ("Chrome on Linux"). Versions are left out,
 * so a browser update is neither a new device nor a changed session. The header is the client's
 * word: a signal to weigh, never proof.
 */

export interface UserAgentFamily {
  /** `Chrome`, `Firefox`, `Chrome (headless)`, ...; `null` when not recognised. */
  readonly browser: string | null;
  /** `Linux`, `iOS`, ...; `null` when not recognised. */
  readonly system: string | null;
}

// First match wins: Edge, Opera and Samsung Internet also say "Chrome", Chrome also says "Safari".
const BROWSERS: readonly [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\/\d/, 'Edge'],
  [/\bOPR\/\d/, 'Opera'],
  [/\bSamsungBrowser\/\d/, 'Samsung Internet'],
  [/\bFirefox\/\d|\bFxiOS\/\d/, 'Firefox'],
  [/\bCriOS\/\d/, 'Chrome'],
  // Automation, not a person's browser: a session taken from Chrome into it is another browser.
  [/\bHeadlessChrome\/\d/, 'Chrome (headless)'],
  [/\bChrom(?:e|ium)\/\d/, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\/\d/, 'Safari'],
  [/^curl\//, 'curl'],
];

// iOS and Android before the desktop systems their headers also name ("like Mac OS X", "Linux").
const SYSTEMS: readonly [RegExp, string][] = [
  [/\b(?:iPhone|iPad|iPod)\b/, 'iOS'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/** The browser and system a User-Agent header names. */
export function readUserAgent(userAgent: string | null | undefined): UserAgentFamily {
  if (!userAgent) return { browser: null, system: null };
  return {
    browser: BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null,
    system: SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null,
  };
}

/**
 * The families of recently seen headers. Every sign-in and every use of a session reads one or two
 * headers (risk signals, audit trail), most of them the same few browsers, and reading one takes up
 * to 15 regular expressions (9 browsers, 6 systems) (issue 10 watches CPU per sign-in). A cache of a pure function: what it
 * holds never changes an answer, only how soon it comes.
 */
const recentFamilies = new Map<string, string>();
const RECENT_FAMILIES = 256;

/**
 * The family the risk signals compare and the audit trail keeps (`Chrome on Linux`, `Other on
 * other` when nothing is recognised); `null` without a header.
 */
export function agentFamily(userAgent: string | null | undefined): string | null {
  if (!userAgent) return null;
  let family = recentFamilies.get(userAgent);
  if (family === undefined) {
    const { browser, system } = readUserAgent(userAgent);
    family = `${browser ?? 'Other'} on ${system ?? 'other'}`;
    // Bounded however many headers clients invent: emptied when full, then refilled by use.
    if (recentFamilies.size >= RECENT_FAMILIES) recentFamilies.clear();
    recentFamilies.set(userAgent, family);
  }
  return family;
}
