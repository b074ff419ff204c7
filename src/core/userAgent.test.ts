import { describe, expect, it } from 'vitest';
import { agentFamily, readUserAgent } from './userAgent.ts';

// One reading for the risk signals and the pages (words.test.ts has the pages' sentences).
describe('user agent family', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', 'Chrome on Linux'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/121.0.0.0 Safari/537.36', 'Chrome (headless) on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0', 'Firefox on Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15', 'Safari on macOS'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0', 'Edge on Windows'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1', 'Chrome on iOS'],
    ['Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36', 'Samsung Internet on Android'],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on ChromeOS'],
    ['curl/8.0', 'curl on other'],
    ['lightMyRequest', 'Other on other'],
    ['', null],
  ])('%s is %s', (ua, family) => {
    expect(agentFamily(ua)).toBe(family);
  });

  it('leaves versions out: an update is the same browser', () => {
    const chrome = (v: string) => `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v} Safari/537.36`;
    expect(agentFamily(chrome('120.0.0.0'))).toBe(agentFamily(chrome('131.0.6778.85')));
  });

  it('answers the same from its cache of recent headers, past its bound too', () => {
    const headers = Array.from({ length: 600 }, (_, i) => (i % 2 === 0 ? `Mozilla/5.0 (Windows NT 10.0) Firefox/${i}.0` : `Mozilla/5.0 (Linux; Android ${i}) Chrome/${i}.0 Mobile`));
    const first = headers.map((h) => agentFamily(h));
    expect(first.slice(0, 2)).toEqual(['Firefox on Windows', 'Chrome on Android']);
    expect(headers.map((h) => agentFamily(h))).toEqual(first);
    expect([...headers].reverse().map((h) => agentFamily(h))).toEqual([...first].reverse());
  });

  it('says nothing it did not recognise', () => {
    expect(readUserAgent(undefined)).toEqual({ browser: null, system: null });
    expect(readUserAgent('Mozilla/5.0 (X11; Linux x86_64)')).toEqual({ browser: null, system: 'Linux' });
  });
});
