import { createRequire } from 'node:module';
import type { Agent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { netrcCredentials } from './netrc.js';
import { proxyFor } from './proxy.js';

export interface HttpGetOptions {
  /** Bytes [start, end] (inclusive), or from start to the end. */
  range?: { start: number; end?: number };
  /** Idle time before the request fails (default 30 s; BMAPKIT_HTTP_TIMEOUT in seconds). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** After redirects. */
  url: URL;
}

/** Set on a response body whose connection the idle timeout closed: what to report instead of Node's "aborted". */
export const TIMED_OUT = Symbol('bmapkit.timedOut');
export type TimedResponse = IncomingMessage & { [TIMED_OUT]?: Error };

interface Stack {
  http: typeof import('node:http');
  https: typeof import('node:https');
  tls: typeof import('node:tls');
  isIP: typeof import('node:net').isIP;
  agents: Record<'http:' | 'https:', Agent>;
}
let loaded: Stack | undefined;

/**
 * Node's HTTP and TLS modules, loaded on the first request: a local copy or
 * create never pays for them (~10 ms of every start here).
 */
function stack(): Stack {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    const http = require('node:http') as typeof import('node:http');
    const https = require('node:https') as typeof import('node:https');
    loaded = {
      http,
      https,
      tls: require('node:tls') as typeof import('node:tls'),
      isIP: (require('node:net') as typeof import('node:net')).isIP,
      agents: { 'http:': new http.Agent({ keepAlive: true, maxSockets: 8 }), 'https:': new https.Agent({ keepAlive: true, maxSockets: 8 }) },
    };
  }
  return loaded;
}

export function defaultTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env['BMAPKIT_HTTP_TIMEOUT']);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 30_000;
}

function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(user)}:${decodeURIComponent(password)}`).toString('base64')}`;
}

/** Opens a CONNECT tunnel through an HTTP proxy to host:port. */
function tunnel(proxy: URL, host: string, port: string, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `${host}:${port}` };
    if (proxy.username !== '') headers['proxy-authorization'] = basicAuth(proxy.username, proxy.password);
    const req = stack().http.request({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: `${host}:${port}`, headers, timeout: timeoutMs });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(Object.assign(new Error(`proxy ${proxy.host} refused the tunnel: HTTP ${res.statusCode}`), { code: 'EPROXY' }));
      } else resolve(socket);
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error('timed out connecting through the proxy'), { code: 'ETIMEDOUT' })));
    req.once('error', reject);
    req.end();
  });
}

/**
 * GET with what curl users expect: credentials from the URL or ~/.netrc,
 * http_proxy/https_proxy/no_proxy (CONNECT for https), up to 5 redirects,
 * keep-alive connections (range requests reuse them), an idle timeout. The
 * body is not consumed: the caller reads or destroys it.
 */
export async function httpGet(url: URL, options: HttpGetOptions = {}, redirects = 0): Promise<HttpResponse> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs(env);
  const headers: Record<string, string> = { 'user-agent': 'bmapkit', 'accept-encoding': 'identity' };
  if (url.username !== '') headers['authorization'] = basicAuth(url.username, url.password);
  else {
    const creds = netrcCredentials(url.hostname, env);
    if (creds !== undefined && creds.login !== '') headers['authorization'] = basicAuth(encodeURIComponent(creds.login), encodeURIComponent(creds.password));
  }
  if (options.range !== undefined) headers['range'] = `bytes=${options.range.start}-${options.range.end ?? ''}`;
  const proxy = proxyFor(url, env);
  const secure = url.protocol === 'https:';
  const port = url.port || (secure ? '443' : '80');
  const path = `${url.pathname}${url.search}`;

  const { http, https, tls, isIP, agents } = stack();
  const req = await (async () => {
    if (proxy !== undefined && !secure) {
      if (proxy.username !== '') headers['proxy-authorization'] = basicAuth(proxy.username, proxy.password);
      return http.request({ host: proxy.hostname, port: proxy.port || 80, path: url.toString().replace(/\/\/[^@/]*@/, '//'), headers: { ...headers, host: url.host } });
    }
    if (proxy !== undefined && secure) {
      const socket = await tunnel(proxy, url.hostname, port, timeoutMs);
      return https.request({ host: url.hostname, port, path, headers, createConnection: () => tls.connect({ socket, host: url.hostname, ...(isIP(url.hostname) === 0 ? { servername: url.hostname } : {}) }) });
    }
    return (secure ? https : http).request({ host: url.hostname, port, path, headers, agent: agents[secure ? 'https:' : 'http:'] });
  })();

  let response: TimedResponse | undefined;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req.setTimeout(timeoutMs, () => {
      const err = Object.assign(new Error(response === undefined ? `no answer for ${timeoutMs / 1000} s` : `no data for ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' });
      if (response !== undefined) response[TIMED_OUT] = err;
      req.destroy(err);
    });
    req.once('response', (r: IncomingMessage) => {
      response = r;
      resolve(r);
    });
    req.once('error', reject);
    req.end();
  });
  const status = res.statusCode ?? 0;
  if ([301, 302, 303, 307, 308].includes(status) && res.headers.location !== undefined) {
    res.resume();
    if (redirects >= 5) throw Object.assign(new Error('too many redirects'), { code: 'EREDIRECT' });
    const next = new URL(res.headers.location, url);
    if (next.host !== url.host) {
      next.username = '';
      next.password = '';
    }
    return httpGet(next, options, redirects + 1);
  }
  return { status, headers: res.headers, body: res, url };
}
