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
