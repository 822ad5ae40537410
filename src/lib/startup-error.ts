/**
 * A problem at start that the operator fixes (a port in use, a damaged key file, a database that cannot be
 * opened): main.ts prints its message alone, without a stack trace, and exits non-zero.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
