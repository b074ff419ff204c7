import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { Reader, type CityResponse } from 'mmdb-lib';
import type { Config } from '../../config/load.ts';
import type { Check } from '../../core/risk/engine.ts';
import { DEFAULT_POLICY, parsePolicy, policyCheck, rulesNaming, type RiskPolicy, type Rule, type RuleInput } from '../../core/risk/rules.ts';
import type { Place, Signal } from '../../core/risk/signals.ts';

/**
 * The risk policy as the server runs it: the parsed rules and the city database, each read once at
 * start (issue 10 watches CPU per sign-in), and which history the rules need.
 */
export interface RiskSetup {
  readonly policy: RiskPolicy;
  readonly check: Check<RuleInput>;
  /** Where the rules came from: the file's path, or `built-in`. */
  readonly source: string;
  /** Places an address; `null` when no city database is configured. */
  readonly placeOf: ((ip: string) => Place | null) | null;
  /** The database's type and build date, for the start-up log. */
  readonly geoipDescription: string | null;
  /** Signals the rules name that need the account's recent sign-ins (one indexed read per sign-in). */
  readonly historySignals: readonly Signal[];
  /** The rules that name one of `historySignals`: a sign-in reads its history only when one of them applies. */
  readonly historyRules: readonly Rule[];
}

/** A policy file that does not validate (every error, with the path of the field at fault), or a city database that cannot be read. */
export class RiskConfigError extends Error {
  override readonly name = 'RiskConfigError';
}

const HISTORY: readonly Signal[] = ['new_device', 'new_country', 'impossible_travel', 'failure_velocity', 'sim_changed'];
const PLACE: readonly Signal[] = ['new_country', 'impossible_travel'];

/** Reads and validates a policy file; throws `RiskConfigError` listing every problem. */
export function readPolicyFile(path: string): RiskPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RiskConfigError(`KEYBOUND_POLICY_FILE ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const read = parsePolicy(text);
  if (!read.ok) throw new RiskConfigError(`KEYBOUND_POLICY_FILE ${path} is not a valid policy:\n${read.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
  return read.policy;
}


/** Opens a MaxMind-format city database with mmdb-lib (the reader MaxMind's own Node library is built on). */
export function openCityDb(path: string): { placeOf: (ip: string) => Place | null; description: string } {
  let reader: Reader<CityResponse>;
  try {
    reader = new Reader<CityResponse>(readFileSync(path));
  } catch (error) {
    throw new RiskConfigError(`KEYBOUND_GEOIP_DB ${path}: not a readable MaxMind-format database (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const placeOf = (ip: string): Place | null => {
    // An IPv4 address a dual-stack listener reports as IPv4-mapped IPv6 is looked up as IPv4.
    const address = ip.startsWith('::ffff:') && !isIPv6(ip.slice(7)) ? ip.slice(7) : ip;
    let record: CityResponse | null;
    try {
      record = reader.get(address);
    } catch {
      return null;
    }
    if (!record) return null;
    return {
      country: record.country?.iso_code ?? record.registered_country?.iso_code ?? null,
      city: record.city?.names?.en ?? null,
      lat: record.location?.latitude ?? null,
      lon: record.location?.longitude ?? null,
    };
  };
  const meta = reader.metadata;
  return { placeOf, description: `${meta.databaseType}, built ${meta.buildEpoch.toISOString().slice(0, 10)}` };
}

export function riskSetup(config: Config): RiskSetup {
  const policy = config.risk.policyFile ? readPolicyFile(config.risk.policyFile) : DEFAULT_POLICY;
  const city = config.risk.geoipDb ? openCityDb(config.risk.geoipDb) : null;
  const named = new Set(policy.rules.flatMap((r) => r.when.signals ?? []));
  const historySignals = HISTORY.filter((s) => named.has(s) && (city !== null || !PLACE.includes(s)));
  return {
    policy,
    check: policyCheck(policy),
    source: config.risk.policyFile ?? 'built-in',
    placeOf: city?.placeOf ?? null,
    geoipDescription: city?.description ?? null,
    historySignals,
    historyRules: rulesNaming(policy.rules, historySignals),
  };
}
