// What a test needs from outside the repository, and why it skips without it.
//
// - testVectors(name): the folder of test inputs laid out as
//   ../shared/testdata/NAME ('bmaptool' or 'blockmap'): the reference vectors
//   when ../shared is beside the checkout, else the project's own stand-ins
//   (tools/own-vectors.js), made once per checkout into node_modules/.cache.
// - referenceVectors(name): the reference folder only, or undefined.
// - missingProgram(...names): a skip reason, or undefined.
// - skipNote(reason): prints the reason and records it in the project's
//   .test-skips.txt, which tools/test-summary.mjs prints once per reason.
import { accessSync, appendFileSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOwnVectors } from './own-vectors.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHARED_TESTDATA = join(ROOT, '..', 'shared', 'testdata');
const OWN = join(ROOT, 'node_modules', '.cache', 'bmapkit-own-vectors', 'v1');

/** ../shared/testdata/NAME/ (with a trailing slash) when present, else undefined. */
export function referenceVectors(name) {
  const dir = join(SHARED_TESTDATA, name);
  return existsSync(join(dir, 'README.md')) ? `${dir}/` : undefined;
}

/** Test inputs laid out as ../shared/testdata/NAME: { dir (trailing slash), reference: whether they are the reference vectors }. */
export function testVectors(name) {
  const ref = referenceVectors(name);
  if (ref !== undefined) return { dir: ref, reference: true };
  if (!existsSync(join(OWN, 'done'))) makeOwnVectors();
  return { dir: `${join(OWN, name)}/`, reference: false };
}

function makeOwnVectors() {
  mkdirSync(join(OWN, '..'), { recursive: true });
  const tmp = mkdtempSync(`${OWN}.tmp-`);
  writeOwnVectors(tmp);
  appendFileSync(join(tmp, 'done'), '');
  try {
    renameSync(tmp, OWN); // another test process may have won the race: its copy is the same bytes
  } catch {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Whether NAME is an executable on PATH (no process started). */
export function hasProgram(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** "NAME is not installed" for the first of NAMES missing from PATH, else undefined. */
export function missingProgram(...names) {
  const name = names.find((n) => !hasProgram(n));
  return name === undefined ? undefined : `${name} is not installed`;
}

const noted = new Set();

/** Prints REASON (once per process) and records it for the closing summary; returns true when there was a reason. */
export function skipNote(reason) {
  if (reason === undefined) return false;
  if (!noted.has(reason)) {
    noted.add(reason);
    console.log(`skipping: ${reason}`);
    try {
      appendFileSync(join(process.cwd(), '.test-skips.txt'), `${reason}\n`);
    } catch {
      // a read-only project directory: the console line is enough
    }
  }
  return true;
}
