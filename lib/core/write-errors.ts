/** Plain words for the errors a full or read-only results folder gives. */
const WHY: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};

/** `no space left on the device (ENOSPC)` for the codes above, else the error's own message. */
export function writeErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code && WHY[code] ? `${WHY[code]} (${code})` : ((e as Error)?.message ?? String(e));
}

/**
 * An error naming the folder and what could not be written, e.g. `cannot write the result of 3fa2b1c0 in
 * /data/results/002-fig1: no space left on the device (ENOSPC); earlier results there are kept. Free space
 * or point TANGENT_RESULTS_DIR elsewhere, then rerun`. The original error is its `cause`; `code` is kept.
 */
export function describeWriteError(e: unknown, what: string, folder: string, hint = 'Free space there, then rerun.'): Error & { code?: string } {
  const code = (e as NodeJS.ErrnoException)?.code;
  if ((e as { describedWrite?: boolean })?.describedWrite) return e as Error;
  const why = writeErrorReason(e);
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  const err = Object.assign(new Error(`cannot write ${what} in ${folder}: ${why}; earlier results there are kept.${full ? ` ${hint}` : ''}`, { cause: e }), { code, describedWrite: true });
  return err;
}
