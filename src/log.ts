// Structured logs on stderr: JSON lines for cron and log collectors (pino), short plain
// lines for a person at a terminal. Fields are counts, codes of organisations, file
// names and timings: never a patient identifier or a row's contents.
import { pino, type DestinationStream, type Logger as Pino } from 'pino';

export type Fields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function jsonLogger(stream: NodeJS.WritableStream, level: 'debug' | 'info' = 'info'): Logger {
  const p: Pino = pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    stream as unknown as DestinationStream,
  );
  return {
    debug: (msg, f) => p.debug(f ?? {}, msg),
    info: (msg, f) => p.info(f ?? {}, msg),
    warn: (msg, f) => p.warn(f ?? {}, msg),
    error: (msg, f) => p.error(f ?? {}, msg),
  };
}

/** For a terminal: warnings and errors as sentences; the progress display tells the rest. */
export function terminalLogger(stream: NodeJS.WritableStream, verbose = false): Logger {
  const line = (prefix: string, msg: string, f?: Fields) => {
    const detail = f
      ? Object.entries(f)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
      : '';
    stream.write(`${prefix}${msg}${detail ? ` (${detail})` : ''}\n`);
  };
  return {
    debug: (msg, f) => verbose && line('  ', msg, f),
    info: (msg, f) => verbose && line('', msg, f),
    warn: (msg, f) => line('warning: ', msg, f),
    error: (msg, f) => line('error: ', msg, f),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
