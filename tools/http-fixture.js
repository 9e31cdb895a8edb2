// HTTP servers on 127.0.0.1 for tests: files from a directory, with Range
// support or without, Basic auth, connections dropped mid-body, and a
// forward proxy. Every request and every body byte served is counted.
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';

/**
 * Serves ROOT. options: { ranges = true, auth: { user, password }, dropAfter: { bytes, times }, tls: { key, cert } (https) }.
 * Returns { url, log: [{ path, query, range, status }], bytesServed(), reset(), close() }.
 */
export async function serveFiles(root, options = {}) {
  const log = [];
  let bytes = 0;
  let drops = options.dropAfter?.times ?? 0;
  const handler = (req, res) => {
    const u = new URL(req.url, 'http://x');
    const entry = { path: u.pathname, query: u.search, range: req.headers.range ?? null, status: 0 };
    log.push(entry);
    const send = (status, headers = {}) => {
      entry.status = status;
      res.writeHead(status, headers);
    };
    if (options.auth !== undefined) {
      const want = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== want) {
        send(401, { 'www-authenticate': 'Basic realm="bmapkit"' });
        return res.end();
      }
    }
    let st;
    const file = join(root, decodeURIComponent(u.pathname));
    try {
      st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
    } catch {
      send(404, { 'content-type': 'text/plain' });
      return res.end('not found\n');
    }
    let start = 0;
    let end = st.size - 1;
    let status = 200;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if ((options.ranges ?? true) && m !== null) {
      start = Number(m[1]);
      end = m[2] === '' ? st.size - 1 : Math.min(Number(m[2]), st.size - 1);
      if (start >= st.size) {
        send(416, { 'content-range': `bytes */${st.size}` });
        return res.end();
      }
      status = 206;
    }
    const headers = { 'content-length': String(end - start + 1), 'content-type': 'application/octet-stream' };
    if (options.ranges ?? true) headers['accept-ranges'] = 'bytes';
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
    send(status, headers);
    if (req.method === 'HEAD' || end < start) return res.end();
    let sent = 0;
    const limit = drops > 0 ? options.dropAfter.bytes : Infinity;
    if (drops > 0) drops--;
    const stream = createReadStream(file, { start, end });
    stream.on('data', (chunk) => {
      const n = Math.min(chunk.length, limit - sent);
      if (n > 0) {
        // counted as served when handed to the socket: wait for it to drain
        if (!res.write(chunk.subarray(0, n))) {
          stream.pause();
          res.once('drain', () => stream.resume());
        }
        sent += n;
        bytes += n;
      }
      if (sent >= limit) {
        stream.destroy();
        res.socket?.destroy(); // the connection drops mid-body
      }
    });
    stream.on('end', () => res.end());
    res.on('close', () => stream.destroy()); // the client went away
  };
  const server = options.tls === undefined ? http.createServer(handler) : https.createServer(options.tls, handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    log,
    bytesServed: () => bytes,
    reset() {
      log.length = 0;
      bytes = 0;
    },
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

/** A forward proxy (absolute-form GET and CONNECT) on 127.0.0.1; `requests` lists what went through it. */
export async function startProxy() {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url);
    const target = new URL(req.url);
    const up = http.request({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req, socket) => {
    requests.push(`CONNECT ${req.url}`);
    const [host, port] = req.url.split(':');
    const up = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    // tunnels are not HTTP connections: closeAllConnections() does not see them
    close: () => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), server.close(resolve))),
  };
}
