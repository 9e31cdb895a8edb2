/** The proxy for a URL from http_proxy / https_proxy / no_proxy (lower case first, as curl), or undefined. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const get = (name: string) => env[name] ?? env[name.toUpperCase()];
  const noProxy = (get('no_proxy') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  for (const entry of noProxy) {
    if (entry === '*') return undefined;
    const [name, port] = entry.split(':') as [string, string | undefined];
    if (port !== undefined && port !== (url.port || (url.protocol === 'https:' ? '443' : '80'))) continue;
    const bare = name.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return undefined;
  }
  const value = url.protocol === 'https:' ? get('https_proxy') : url.protocol === 'http:' ? (env['http_proxy'] ?? env['HTTP_PROXY']) : undefined;
  if (value === undefined || value === '') return undefined;
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    return undefined;
  }
}
