import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BmapkitError } from '@bmapkit/bmap-format';
import { defaultRegistry, type CodecRegistry } from '@bmapkit/decompress-stream';

/**
 * The built-in codecs plus those of each module (`bmaptool --codec MODULE`):
 * a file path (relative to `base`) or a package name. A module exports
 * `register(registry)` (or a default function of that shape), which calls
 * `registry.register(codec)` for each codec it adds.
 */
export async function registryWithModules(modules: readonly string[], base = process.cwd()): Promise<CodecRegistry> {
  const registry = defaultRegistry();
  for (const spec of modules) {
    const url = moduleUrl(spec, base);
    let loaded: { register?: unknown; default?: unknown };
    try {
      loaded = (await import(url)) as typeof loaded;
    } catch (e) {
      throw new BmapkitError('CODEC_MODULE', `cannot load codec module '${spec}': ${((e as Error).message ?? String(e)).split('\n')[0]}; give a path to a .js or .mjs file, or an installed package`, { cause: e });
    }
    const register = typeof loaded.register === 'function' ? loaded.register : loaded.default;
    if (typeof register !== 'function') {
      throw new BmapkitError('CODEC_MODULE', `codec module '${spec}' exports no register(registry) function; export one that calls registry.register(codec)`);
    }
    const before = registry.all.length;
    await (register as (r: CodecRegistry) => unknown)(registry);
    if (registry.all.length === before) throw new BmapkitError('CODEC_MODULE', `codec module '${spec}' registered no codec; its register(registry) must call registry.register(codec)`);
  }
  return registry;
}

/** A path (anything that looks like one) as a file URL; a package name resolved from `base`. */
function moduleUrl(spec: string, base: string): string {
  if (spec.startsWith('.') || isAbsolute(spec) || /\.[cm]?js$/.test(spec)) return pathToFileURL(resolve(base, spec)).href;
  try {
    return pathToFileURL(createRequire(join(base, 'noop.js')).resolve(spec)).href;
  } catch {
    return spec; // an ESM-only package: left to import()
  }
}
