import { basename } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { exitStatus, fsReason, isBmapkitError } from '@bmapkit/bmap-format';
import { EXIT } from './exit-codes.js';
import { Logger, wantsColour, type Verbosity } from './log.js';
import { VERSION } from './version.js';
import { endProcess, endingOn, handleInterrupts } from './interrupt.js';
import type { CopyOptions } from './commands/copy.js';
import type { VerifyCommandOptions } from './commands/verify.js';

// Each command's code (and the stages it wires) is loaded only when that
// command runs: start-up is part of every run's wall time.

export interface MainIO {
  argv: string[];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/**
 * Runs the command line and resolves with the exit status. Never throws:
 * user errors become one `<prog>: ERROR: <message>` line (a stack trace only
 * with --debug), usage errors print the usage and exit 2, as argparse does.
 */
export async function main(io: MainIO): Promise<number> {
  const prog = basename(io.argv[1] ?? 'bmaptool').replace(/\.[cm]?js$/, '') === 'bmapkit' ? 'bmapkit' : 'bmaptool';
  const colour = wantsColour(io.stderr, io.env);
  let log = new Logger(prog, 'normal', io.stderr, colour);
  handleInterrupts((signal) => {
    if (signal !== 'SIGPIPE' && signal !== 'OUTPUT') log.error('interrupted, exiting');
  });
  watchOutput(io.stdout, 'standard output', () => log);
  watchOutput(io.stderr, 'standard error', () => log);
  const program = new Command(prog);
  program
    .description('Create block maps (bmap) of sparse images and copy images using them (bmapkit, a bmaptool replacement).')
    .usage('[-h] [--version] [-q] [-d] COMMAND ...')
    .option('-q, --quiet', 'be quiet: only warnings and errors')
    .option('-d, --debug', 'print debugging information, and stack traces with errors')
    .version(`${prog} ${VERSION}`, '--version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help and exit')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => undefined, // printed below, argparse-style
    })
    .hook('preAction', (cmd) => {
      const o = cmd.opts<{ quiet?: boolean; debug?: boolean }>();
      if (o.quiet === true && o.debug === true) throw new UsageFailure('--quiet and --debug cannot be used together');
      const verbosity: Verbosity = o.quiet === true ? 'quiet' : o.debug === true ? 'debug' : 'normal';
      log = new Logger(prog, verbosity, io.stderr, colour);
    });

  program
    .command('create')
    .description('generate the bmap of a sparse image file')
    .argument('<IMAGE>', 'the image file')
    .option('-o, --output <OUTPUT>', 'write the bmap to OUTPUT (atomically) instead of stdout')
    .option('--no-checksum', 'do not add range checksums to the bmap')
    .action(async (image: string, opts: { output?: string; checksum: boolean }) => {
      const { create } = await import('./commands/create.js');
      await create(image, opts, log, io.stdout);
    });

  program
    .command('copy')
    .description('copy an image to a file or device, writing only the blocks its bmap lists')
    .argument('<IMAGE>', 'the image: a path, or - for standard input; compressed images are detected and decoded')
    .argument('<DEST>', 'the destination: a block device (/dev/sdX, /dev/disk/by-id/...) or a file')
    .option('--bmap <BMAP>', 'the bmap file (default: found next to the image)')
    .option('--nobmap', 'allow copying without a bmap: every byte of the image is written')
    .option('--bmap-sig <SIG>', 'detached OpenPGP signature of the bmap')
    .option('--no-sig-verify', 'do not verify the bmap signature')
    .option('--keyring <KEYRING>', 'verify the signature against this keyring')
    .option('--fingerprint <FPR>', 'require a signature by this key fingerprint')
    .option('--no-verify', 'do not verify the range checksums (the bmap file checksum still is)')
    .option('--psplash-pipe <PATH>', 'write progress to a psplash FIFO')
    .option('--removable-device', 'copy only to a removable block device')
    .option('--verify-written', 'read every range back from DEST after it is flushed (bypassing the page cache), compare, and rewrite what differs')
    .option('--direct', 'insist on O_DIRECT writes to the block device (the default when the device takes them)')
    .option('--no-direct', 'write to the block device through the page cache, as the Python bmaptool does')
    .option('--no-tune', 'leave the I/O scheduler and bdi/max_ratio of the device alone')
    .option('--force', 'create DEST under /dev as a regular file when no such device exists')
    .option('--json', 'print JSON-lines events on stdout: start, bmap, progress, done, error')
    .option('--codec <MODULE>', 'load a module that registers extra codecs (a path or a package; repeatable)', collect, [])
    .action(async (image: string, dest: string, opts: CopyOptions) => {
      const { copy } = await import('./commands/copy.js');
      await copy(image, dest, opts, log, io);
    });

  program
    .command('verify')
    .description('check a device, file or image against a bmap without writing; lists every range that differs')
    .argument('<IMAGE_OR_DEST>', 'a block device, a written file, or an image (compressed images are decoded; - for stdin)')
    .option('--bmap <BMAP>', 'the bmap (needed for a device; for an image, found next to it by default)')
    .addOption(new Option('--json', 'print the result as one JSON object on stdout'))
    .option('--codec <MODULE>', 'load a module that registers extra codecs (a path or a package; repeatable)', collect, [])
    .action(async (target: string, opts: VerifyCommandOptions) => {
      const { verify } = await import('./commands/verify.js');
      await verify(target, opts, log, io.stdout);
    });

  program
    .command('check')
    .description('validate a bmap file (every rule, its own checksum) and summarise it; writes nothing')
    .argument('<BMAP>', 'the bmap file')
    .addOption(new Option('--json', 'print the summary as one JSON object on stdout'))
    .action(async (path: string, opts: { json?: boolean }) => {
      const { check } = await import('./commands/check.js');
      await check(path, opts, log, io.stdout);
    });

  for (const cmd of program.commands) cmd.exitOverride().configureOutput(program.configureOutput());

  try {
    await program.parseAsync(io.argv);
    return EXIT.OK;
  } catch (err) {
    if (endingOn() !== undefined) return new Promise<number>(() => undefined); // ending: the interrupt exits
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.OK; // --help, --version
      if (err.code === 'commander.help') {
        io.stderr.write(`${prog}: error: a command is required\n`); // the help went to stderr already
        return EXIT.USAGE;
      }
      io.stderr.write(`usage: ${prog} ${program.usage()}\n${prog}: error: ${err.message.replace(/^error: /, '')}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof UsageFailure) {
      log.error(err.message);
      return EXIT.FAILURE;
    }
    const debug = log.verbosity === 'debug' || io.argv.includes('-d') || io.argv.includes('--debug');
    if (isBmapkitError(err)) {
      log.error(err.message);
      if (debug) io.stderr.write(`${err.stack ?? ''}\n${err.cause instanceof Error ? `cause: ${err.cause.stack}\n` : ''}`);
      return exitStatus(err);
    } else {
      log.error(`internal error: ${(err as Error)?.message ?? String(err)} (this is a bug in bmapkit; please report it with the output of --debug)`);
      if (debug) io.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    }
    return EXIT.FAILURE;
  }
}

/**
 * A reader of stdout or stderr that went away (EPIPE) ends the process as
 * SIGPIPE would, after the cleanups (exit 141, nothing printed); any other
 * failure to write them (a full disk) is one error line and exit 1. Without
 * this, Node reports either as an unhandled 'error' event with a stack trace.
 */
function watchOutput(stream: NodeJS.WritableStream, name: string, log: () => Logger): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') return void endProcess('SIGPIPE');
    if (endingOn() === undefined && name === 'standard output') log().error(`cannot write to ${name}: ${fsReason(e)}`);
    void endProcess('OUTPUT');
  });
}

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A combination of options the reference refuses at run time (exit 1, not 2, and no stack even with -d). */
class UsageFailure extends Error {}
