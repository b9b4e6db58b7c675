/** Exit codes of every subcommand (DESIGN.md "Command line"). */
export const EXIT_OK = 0;
/** Findings at or above `--fail-on`. */
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;
/** An input could not be read (not a capture, unreadable, truncated beyond use). */
export const EXIT_INPUT = 3;

/** A wrong command line: reported as `sipwarden: <message>` with exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
