import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** File-system habits shared by the local store's temp files and the decode spool. */

/** Temp files older than this at start-up were left by a crash: no upload lasts an hour. */
export const staleTempFileMs = 60 * 60 * 1000;

/**
 * Removes the files and folders in `directory` (those whose names match `pattern`, if given)
 * that a crashed process left behind. Only old ones: a young one may belong to another
 * instance that shares the folder and is still writing it.
 */
export async function removeStaleTempFiles(directory: string, pattern?: RegExp): Promise<void> {
  const now = Date.now();
  for (const entry of await fs.readdir(directory)) {
    if (pattern !== undefined && !pattern.test(entry)) continue;
    const file = path.join(directory, entry);
    const stats = await fs.stat(file).catch(() => undefined);
    if (stats === undefined || now - stats.mtimeMs <= staleTempFileMs) continue;
    if (stats.isFile() || stats.isDirectory()) {
      await fs.rm(file, { recursive: true, force: true });
    }
  }
}

/**
 * By shape, not `instanceof Error`: errors from Node's fs are made in Node's own realm, which
 * is not the realm of this module under jest's VM contexts, so `instanceof` answers false.
 */
export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/**
 * The secret kept in `file`, made (32 random bytes, hex) by whichever process asks first:
 * every instance sharing the folder then reads the same one. link() never replaces, so two
 * instances starting at once cannot each keep their own. Only this service reads the file
 * (mode 0600).
 */
export async function keptSecret(file: string): Promise<string> {
  const temp = `${file}.${randomUUID()}`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(temp, randomBytes(32).toString('hex'), { mode: 0o600, flush: true });
  try {
    await fs.link(temp, file);
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  } finally {
    await fs.rm(temp, { force: true });
  }
  return fs.readFile(file, 'utf8');
}
