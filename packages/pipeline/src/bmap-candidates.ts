import { basename } from 'node:path';

/**
 * Python's os.path.splitext on the last path component: the extension is
 * from the last '.', unless the name only starts with dots.
 */
export function splitExt(path: string): [string, string] {
  const base = basename(path);
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(base.slice(0, dot + 1))) return [path, ''];
  return [path.slice(0, path.length - (base.length - dot)), base.slice(dot)];
}

/**
 * The bmap files bmaptool looks for next to an image, in order: IMAGE.bmap,
 * then with one extension stripped at a time (disk.img.gz -> disk.img.gz.bmap,
 * disk.img.bmap, disk.bmap). For "-" (stdin) only "-.bmap" in the current
 * directory.
 */
export function bmapCandidates(image: string): string[] {
  if (image === '-') return ['-.bmap'];
  if (/^[a-z][a-z0-9+.-]*:/i.test(image) && !image.startsWith('/')) return urlCandidates(image);
  const out: string[] = [];
  let stem = image;
  for (;;) {
    out.push(`${stem}.bmap`);
    const [rest, ext] = splitExt(stem);
    if (ext === '') break;
    stem = rest;
  }
  return out;
}

/** A URL split into what comes before its query, and its query ("" if none); any fragment is dropped. */
export function splitQuery(uri: string): [string, string] {
  const m = /^([^?#]*)(\?[^#]*)?/.exec(uri)!;
  return [m[1]!, m[2] ?? ''];
}

/** For a URL: the same names on the URL's path, keeping its query (signed URLs) and dropping any fragment. */
function urlCandidates(image: string): string[] {
  const [path, query] = splitQuery(image);
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  return bmapCandidates(path.slice(slash + 1) || 'image').map((name) => `${dir}${name}${query}`);
}
