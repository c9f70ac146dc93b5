/**
 * The staging layer's one error convention (records and bytes, tus and direct uploads alike),
 * and the names it accepts. The upload layer maps these to the catalogue (src/uploads/staging-failures.ts).
 */

export type StagingErrorKind =
  /** create: the id is taken. */
  | 'exists'
  /** replace or a write: someone else wrote first, or the upload is gone. */
  | 'conflict'
  /** A piece longer than it may be. */
  | 'too_large'
  /**
   * The driver cannot sign a PUT URL (GCS without a signing identity): a configuration fact,
   * not an outage, so retrying never helps; a resumable session can still be offered.
   */
  | 'cannot_sign'
  | 'unavailable';

export class StagingError extends Error {
  constructor(
    readonly kind: StagingErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StagingError';
  }
}

/** By shape rather than `instanceof`, which breaks across jest's module realms. */
export function isStagingError(error: unknown, kind?: StagingErrorKind): error is StagingError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    error.name === 'StagingError' &&
    'kind' in error &&
    (kind === undefined || error.kind === kind)
  );
}

/** A failure as the staging's own: a StagingError stays what it is, anything else is `unavailable`. */
export function asStagingError(error: unknown, message: string): StagingError {
  return isStagingError(error) ? error : new StagingError('unavailable', message, { cause: error });
}

/** Every upload id, tus and direct: lower-case UUIDs the service created. */
export const uploadIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Piece names: the offset the piece starts at and a random suffix, made by the service. */
const pieceNamePattern = /^[0-9]{1,15}-[0-9a-f]{8,32}$/;

/** Ids and piece names become paths and object names: only those the service makes pass. */
export function assertStagedNames(id: string, pieceName?: string): void {
  if (!uploadIdPattern.test(id)) throw new Error(`refusing unsafe staged id ${id}`);
  if (pieceName !== undefined && !pieceNamePattern.test(pieceName)) {
    throw new Error(`refusing unsafe piece name ${pieceName}`);
  }
}
