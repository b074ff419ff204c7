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
 * The family the risk signals compare and the audit trail keeps (`Chrome on Linux`, `Other on
 * other` when nothing is recognised); `null` without a header.
 */
export function agentFamily(userAgent: string | null | undefined): string | null {
  if (!userAgent) return null;
  const { browser, system } = readUserAgent(userAgent);
  return `${browser ?? 'Other'} on ${system ?? 'other'}`;
}
