import type { Middleware } from 'koa';
import type { Config } from '../config/load.ts';

/**
 * The provider's answers bypass Fastify's onSend hook (its requests are hijacked before parsing),
 * so they get the security headers here. Its pages get a CSP without `form-action`: the logout
 * confirmation and `response_mode=form_post` submit forms whose answer redirects to the client's
 * own origin, which `form-action 'self'` would block in Chromium. oidc-provider adds the hash of
 * the one inline script it writes (form_post) to this `script-src`.
 */
const PROVIDER_CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "base-uri 'none'"].join('; ');

export function securityHeaders(config: Config): Middleware {
  return async (ctx, next) => {
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('x-frame-options', 'DENY');
    ctx.set('content-security-policy', PROVIDER_CSP);
    if (config.secureCookies) ctx.set('strict-transport-security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
