import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Credentials {
  login: string;
  password: string;
}

/** Parses a .netrc: `machine` entries and a `default` entry (macdef bodies skipped). */
export function parseNetrc(text: string): { machines: Map<string, Credentials>; fallback?: Credentials } {
  const tokens = text.replace(/^#.*$/gm, '').split(/\s+/).filter((t) => t !== '');
  const machines = new Map<string, Credentials>();
  let fallback: Credentials | undefined;
  let current: Credentials | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === 'machine') {
      current = { login: '', password: '' };
      machines.set(tokens[++i] ?? '', current);
    } else if (t === 'default') {
      current = { login: '', password: '' };
      fallback = current;
    } else if (t === 'login' && current !== undefined) current.login = tokens[++i] ?? '';
    else if (t === 'password' && current !== undefined) current.password = tokens[++i] ?? '';
    else if (t === 'account') i++;
  }
  return fallback === undefined ? { machines } : { machines, fallback };
}

/** Credentials for HOST from $NETRC or ~/.netrc, if any. */
export function netrcCredentials(host: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  let text: string;
  try {
    text = readFileSync(env['NETRC'] ?? join(env['HOME'] ?? homedir(), '.netrc'), 'utf8');
  } catch {
    return undefined;
  }
  const { machines, fallback } = parseNetrc(text);
  return machines.get(host) ?? fallback;
}
