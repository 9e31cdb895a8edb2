/** Where diagnostics go: `<prog>: <level>: <message>` on stderr, one per line. */
export type Verbosity = 'quiet' | 'normal' | 'debug';

const COLOURS = { WARNING: '\x1b[93m', ERROR: '\x1b[91m' } as const;

export interface LogTarget {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Colour only on a terminal, and never when NO_COLOR is set (the reference colours pipes too). */
export function wantsColour(stream: LogTarget, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env['NO_COLOR'] === undefined || env['NO_COLOR'] === '');
}

export class Logger {
  constructor(
    readonly prog: string,
    readonly verbosity: Verbosity = 'normal',
    private readonly stream: LogTarget = process.stderr,
    private readonly colour = wantsColour(stream),
  ) {}

  info(message: string): void {
    if (this.verbosity !== 'quiet') this.line('info', message);
  }

  debug(message: string): void {
    if (this.verbosity === 'debug') this.line('debug', message);
  }

  warning(message: string): void {
    this.line('WARNING', message);
  }

  /** Errors are printed whatever the verbosity. */
  error(message: string): void {
    this.line('ERROR', message);
  }

  private line(level: string, message: string): void {
    const c = this.colour ? COLOURS[level as keyof typeof COLOURS] : undefined;
    const tag = c === undefined ? level : `${c}${level}\x1b[0m`;
    this.stream.write(`${this.prog}: ${tag}: ${message}\n`);
  }
}
