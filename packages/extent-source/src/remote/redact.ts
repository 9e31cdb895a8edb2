/** A URL as it may appear in messages and events: without its password (the user name stays). */
export function redactUrl(uri: string): string {
  try {
    const u = new URL(uri);
    if (u.password === '') return uri;
    u.password = '***';
    return u.toString();
  } catch {
    return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
  }
}
