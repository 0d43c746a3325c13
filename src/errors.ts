// Errors a person can act on. Each carries the exit code `main` returns; messages never
// hold patient identifiers or row contents, only file names, line numbers and counts.

export const EXIT = {
  ok: 0,
  /** The run completed, but one or more practices were quarantined (not processed). */
  quarantined: 2,
  /** Bad configuration, arguments or delivery: nothing was published. */
  badInput: 3,
  /** Another run holds the lock on this output folder. */
  locked: 4,
  /** `strata query` stopped a question at its time or memory limit; nothing was written. */
  queryLimit: 5,
  /** A bug or an environment failure (disk full, permissions): nothing was published. */
  internal: 70,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.internal,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The configuration file or command-line arguments are wrong. */
export class ConfigError extends CliError {
  constructor(message: string) {
    super(message, EXIT.badInput);
  }
}

/** The delivery as a whole cannot be used (missing delivery.json, no reference files...). */
export class DeliveryError extends CliError {
  constructor(message: string) {
    super(message, EXIT.badInput);
  }
}

export class LockedError extends CliError {
  constructor(message: string) {
    super(message, EXIT.locked);
  }
}

/** An internal consistency check failed: counts did not reconcile, an output was incomplete. */
export class IntegrityError extends CliError {
  constructor(message: string) {
    super(message, EXIT.internal);
  }
}

/**
 * What a file-system failure means to the person at the keyboard, found by its errno code or,
 * for DuckDB's errors, which carry none, by the operating system's text in the message.
 */
const STORAGE_FAILURES: readonly { code: string; text: RegExp; reason: string }[] = [
  { code: 'ENOSPC', text: /No space left on device/i, reason: 'the disk is full' },
  {
    code: 'EFBIG',
    text: /File too large/i,
    reason: 'a file is too large for the file system (a size limit, or the disk is full)',
  },
  { code: 'EDQUOT', text: /quota exceeded/i, reason: 'the disk quota is used up' },
  { code: 'EROFS', text: /read-only file system/i, reason: 'the file system is read-only' },
  { code: 'EACCES', text: /Permission denied/i, reason: 'permission denied' },
  { code: 'EPERM', text: /Operation not permitted/i, reason: 'operation not permitted (permission denied)' },
  { code: 'EIO', text: /Input\/output error/i, reason: 'an input/output error of the disk' },
  { code: 'ENOTDIR', text: /Not a directory/i, reason: 'a file is in the way of a folder' },
  { code: '', text: /Could not write file/i, reason: 'a file could not be written' },
];

/** The reason for a file-system failure, or null when `err` is not one. */
export function storageFailure(err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const text = err instanceof Error ? err.message : String(err);
  return (
    (
      STORAGE_FAILURES.find((f) => !!code && f.code === code) ??
      STORAGE_FAILURES.find((f) => f.text.test(text))
    )?.reason ?? null
  );
}
