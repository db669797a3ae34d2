/**
 * Why a file named on the command line could not be read, in words an operator reads (Node's own
 * message — "ENOENT: no such file or directory, open '…'" — repeats the path unescaped and speaks
 * in error codes). An unknown reason shows its code alone.
 */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files',
  EIO: 'an input/output error',
};

export function fileProblem(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  if (typeof code !== 'string') return 'error';
  return REASONS[code] ?? code;
}
