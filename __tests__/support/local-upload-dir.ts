import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../../src/files.js';

/**
 * How tests look into a local store's folder around the driver. The store keeps its own
 * files in dot-folders (`.incoming` for temp files, `.meta` for sidecars); everything else
 * is an object a reader can see.
 */

/** Names of the stored objects, sorted. */
export async function localObjectNames(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((entry) => !entry.startsWith('.')).sort();
}

/**
 * What writes and deletes left behind, relative to the folder and sorted: temp files, and
 * sidecars whose object is gone. A stored object's own sidecar is part of that object.
 */
export async function localLeftovers(directory: string): Promise<string[]> {
  const objects = new Set(await localObjectNames(directory));
  const [temp, sidecars] = await Promise.all([
    entriesOf(path.join(directory, '.incoming')),
    entriesOf(path.join(directory, '.meta')),
  ]);
  return [
    ...temp.map((entry) => `.incoming/${entry}`),
    ...sidecars
      .filter((entry) => !objects.has(entry.replace(/\.json$/, '')))
      .map((entry) => `.meta/${entry}`),
  ].sort();
}

async function entriesOf(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}
