// What a delivery in the bad-delivery corpus must lead to (its expected.json).
export interface ExpectedOutcome {
  /** What the case is about, for a person reading the corpus. */
  fault: string;
  exit_code: number;
  quarantined?: string[];
  quarantined_files?: string[];
  /** Substring of the error message (exit 3). */
  error?: string;
  rejected?: Record<string, number>;
  dropped?: Record<string, Record<string, number>>;
  eligible?: number;
  /** Values from the delivery that no message or report may quote. */
  never_shown?: string[];
}
