/** Messages between the orchestrator (bench/run.ts) and the load generator (bench/loadgen.ts). */

export type Workload = 'passkey' | 'session' | 'client-credentials' | 'api-key' | 'totp' | 'raw-http';

/** What the client-credentials workload needs: a client registered with `keybound clients create`. */
export interface ClientCredentialsParams {
  readonly clientId: string;
  /** The client's ES256 private key (JWK) for `private_key_jwt`. */
  readonly privateJwk: Record<string, string>;
  /** Resource indicator (RFC 8707) the tokens are for. */
  readonly resource: string;
  /** Bind every token to a DPoP key of the virtual user (RFC 9449). */
  readonly dpop: boolean;
  /**
   * With it, each request is an RFC 8693 token exchange of this person's access token (the client
   * is an agent workload the person delegated to) instead of client credentials.
   */
  readonly subjectToken?: string;
}

/** What the api-key workload needs: a resource-server client (`clients create --resource-server`) and keys to check. */
export interface IntrospectionParams {
  readonly clientId: string;
  /** The resource server's ES256 private key (JWK) for `private_key_jwt`. */
  readonly privateJwk: Record<string, string>;
  /** API keys (`api-keys create`); virtual user u checks `keys[u % keys.length]`, again and again. */
  readonly keys: readonly string[];
}

export type ToLoadgen =
  | { type: 'init'; secret: string; accounts: number; sample: number }
  | {
      type: 'phase';
      id: string;
      target: 'keybound' | 'better-auth';
      baseUrl: string;
      workload: Workload;
      concurrency: number;
      warmupMs: number;
      warmupMaxMs: number;
      /** Keep warming up until every prepared account has signed in once (up to warmupMaxMs). */
      fullPassWarmup: boolean;
      durationMs: number;
      clientCredentials?: ClientCredentialsParams;
      introspection?: IntrospectionParams;
    }
  | { type: 'go'; id: string }
  | { type: 'exit' };

export interface PhaseResult {
  readonly ops: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly elapsedMs: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number };
  /** CPU the load generator itself used during the measured window. */
  readonly clientCpuMs: number;
}

export type FromLoadgen =
  | { type: 'ready'; prepared: number }
  | { type: 'warm'; id: string; warmupOps: number; warmupMs: number }
  | { type: 'result'; id: string; result: PhaseResult }
  | { type: 'failed'; id: string; error: string };
