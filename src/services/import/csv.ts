import { base32Decode } from '../../codes/base32.ts';
import type { TotpParams } from '../../codes/totp.ts';
import type { Role } from '../../core/model.ts';
import type { Problem, RawRecord } from './record.ts';

/**
 * The CSV import format (README "Importing accounts"): RFC 4180 (commas, double quotes around a
 * field that holds a comma, quote or line break, `""` for a quote), UTF-8, a header line naming
 * the columns `username,email,display_name,role,phone,password_hash,totp_secret` in any order
 * (only `username` is required). `role` is `admin` or `member` (empty: member); `totp_secret` is
 * the base32 seed of an `otpauth://` URI, SHA-1, 6 digits, 30 s (the defaults authenticator apps
 * assume); `password_hash` a PHC string (passwordHash.ts).
 */
export const CSV_COLUMNS = ['username', 'email', 'display_name', 'role', 'phone', 'password_hash', 'totp_secret'] as const;

const CSV_TOTP: TotpParams = { algorithm: 'SHA1', digits: 6, period: 30 };

/** Splits RFC 4180 text into rows of fields, with the line each row starts on. */
export function* csvRows(text: string): Generator<{ line: number; fields: string[] }> {
  let i = 0;
  let line = 1;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          const q = text.indexOf('"', i);
          if (q === -1) throw new CsvError(`line ${start}: a quoted field is not closed`);
          field += text.slice(i, q);
          for (let k = i; k < q; k++) if (text[k] === '\n') line++;
          i = q + 1;
          if (text[i] === '"') {
            field += '"';
            i++;
          } else break;
        }
      } else {
        let j = i;
        while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
        field = text.slice(i, j);
        i = j;
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      } else if (i < n) throw new CsvError(`line ${start}: unexpected character after a quoted field`);
      break;
    }
    if (fields.length === 1 && fields[0] === '') continue;
    yield { line: start, fields };
  }
}

export class CsvError extends Error {
  override readonly name = 'CsvError';
}

/** Reads a CSV export into raw records and the rows that could not be read at all. */
export function* readCsv(text: string): Generator<RawRecord | Problem> {
  const rows = csvRows(text);
  const header = rows.next();
  if (header.done) throw new CsvError('the file is empty');
  const names = header.value.fields.map((f) => f.trim().toLowerCase());
  const unknown = names.filter((name) => !(CSV_COLUMNS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new CsvError(`line 1: unknown column ${unknown.join(', ')} (columns: ${CSV_COLUMNS.join(',')})`);
  if (!names.includes('username')) throw new CsvError('line 1: no username column');
  for (const { line, fields } of rows) {
    const where = `line ${line}`;
    if (fields.length !== names.length) {
      yield { where, username: null, reason: `${fields.length} fields, the header has ${names.length}` };
      continue;
    }
    const get = (column: (typeof CSV_COLUMNS)[number]) => {
      const index = names.indexOf(column);
      return index === -1 ? '' : fields[index]!;
    };
    const username = get('username');
    const role = get('role').trim().toLowerCase() || 'member';
    if (role !== 'admin' && role !== 'member') {
      yield { where, username, reason: `role: ${role} is not admin or member` };
      continue;
    }
    let totp: RawRecord['totp'] = null;
    const seed = get('totp_secret').trim();
    if (seed) {
      const secret = base32Decode(seed.replace(/\s/g, '').toUpperCase());
      if (!secret) {
        yield { where, username, reason: 'totp_secret: not base32' };
        continue;
      }
      totp = { secret, params: CSV_TOTP };
    }
    yield {
      where,
      externalId: null,
      username,
      email: get('email'),
      displayName: get('display_name'),
      role: role as Role,
      phone: get('phone'),
      passwordHash: get('password_hash'),
      totp,
    };
  }
}
