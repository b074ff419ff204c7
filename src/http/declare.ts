/**
 * A route of the JSON API, declared: what it is, who may call it, from where, with what body, how
 * often. `registrar.ts` turns the declarations into Fastify routes with their gates, and
 * `openapi.ts` into the OpenAPI document, so the gates a route has are the gates it says it has
 * (DESIGN.md "Gates are declared, not written out").
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Result } from '../core/errors.ts';
import type { RequestContext } from '../core/model.ts';
import type { Deps } from '../services/deps.ts';
import type { FreshRule } from '../services/freshness.ts';
import type { ActiveSession } from '../services/sessions.ts';

export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route: anyone; a live session; or a fresh session (a passkey sign-in within
 * `KEYBOUND_FRESH_AUTH_MAX_AGE`, its passkey still usable) at `minAal` or above. The services
 * behind fresh routes check freshness again themselves (services/freshness.ts).
 */
export type Access = 'anyone' | 'session' | { readonly fresh: true; readonly minAal?: FreshRule['minAal'] } | AdminAccess;

/**
 * An administrator's session (services/adminAccess.ts `requireAdmin`): an `admin` account signed in
 * at the admin role's required level; `fresh` for changes. The services check it again themselves.
 */
export interface AdminAccess {
  readonly admin: true;
  readonly fresh?: true;
}

/**
 * `allowed-origins`: a request must come from an allowed origin (its Origin header, or without one,
 * `Sec-Fetch-Site: same-origin` when it carries the session cookie): the defence against cross-site
 * request forgery. `any`: no check, for reads. Every state-changing route is `allowed-origins`.
 */
export type OriginRule = 'allowed-origins' | 'any';

/** A success answer: a description, and its schema where one is worth stating. */
export type SuccessResponse = string | { readonly description: string; readonly schema: unknown };

/** What a handler gets: the parsed request, and the session when the route's access requires one. */
export interface RouteInput<Body, Params> {
  readonly deps: Deps;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly body: Body;
  readonly params: Params;
  readonly context: RequestContext;
}

export interface SessionRouteInput<Body, Params> extends RouteInput<Body, Params> {
  readonly active: ActiveSession;
}

interface Declared<Body, Params> {
  readonly method: ApiMethod;
  /** Fastify syntax (`/api/v1/passkeys/:id`); always under `/api/v1`. */
  readonly path: string;
  readonly summary: string;
  /** JSON Schema of the body, checked before any handler runs, and the media types accepted for it. */
  readonly body?: { readonly schema: unknown; readonly types?: readonly string[] };
  /** JSON Schema of the path parameters. */
  readonly params?: unknown;
  /** JSON Schema of the query string (an object of string properties). */
  readonly query?: unknown;
  /** Default: `allowed-origins` for state-changing methods, `any` for GET. */
  readonly origin?: OriginRule;
  /** `ceremony`: the per-address limit of sign-in ceremonies (`KEYBOUND_RATE_LIMIT_CEREMONY`). */
  readonly rateLimit?: 'ceremony';
  /** Success answers by status; every route also answers `4XX` with an Error, and these statuses too. */
  readonly responses: Readonly<Record<number, SuccessResponse>>;
  readonly errors?: readonly number[];
  /** Sign-out: the session cookie is cleared whatever the answer (a cookie for no live session is useless). */
  readonly endsSession?: true;
  /**
   * A recovery session may use it (README "Recovery"). Only binding a passkey and seeing and ending
   * sessions say so; every other route refuses a recovery session (`recovery_session_limited`,
   * gates.ts `admit`), and so does `session()` in an `anyone` route that does not say so.
   */
  readonly recovery?: true;
}

export interface AnyoneRoute<Body = unknown, Params = unknown> extends Declared<Body, Params> {
  readonly access: 'anyone';
  /** `session()` reads the cookie's session for routes that take one but do not need one. */
  readonly handler: (input: RouteInput<Body, Params> & { session(): Promise<Result<ActiveSession>> }) => Promise<unknown>;
}

export interface SessionRoute<Body = unknown, Params = unknown> extends Declared<Body, Params> {
  readonly access: Exclude<Access, 'anyone'>;
  readonly handler: (input: SessionRouteInput<Body, Params>) => Promise<unknown>;
}

export type ApiRoute<Body = unknown, Params = unknown> = AnyoneRoute<Body, Params> | SessionRoute<Body, Params>;

/** Types a declaration's handler by its body and parameters; the table holds them untyped. */
export function route<Body = unknown, Params = unknown>(declaration: AnyoneRoute<Body, Params>): ApiRoute;
export function route<Body = unknown, Params = unknown>(declaration: SessionRoute<Body, Params>): ApiRoute;
export function route(declaration: ApiRoute): ApiRoute {
  return declaration;
}

const STATE_CHANGING = new Set<ApiMethod>(['POST', 'PUT', 'PATCH', 'DELETE']);

export function changesState(method: ApiMethod): boolean {
  return STATE_CHANGING.has(method);
}

/** The route's origin rule, with the default; a state-changing route cannot opt out. */
export function originRule(r: Pick<ApiRoute, 'method' | 'origin'>): OriginRule {
  if (changesState(r.method)) {
    if (r.origin === 'any') throw new Error(`${r.method} routes must check the origin (a state-changing request is what CSRF forges)`);
    return 'allowed-origins';
  }
  return r.origin ?? 'any';
}

export const JSON_TYPE = 'application/json';
