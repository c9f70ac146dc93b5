import { readFile } from 'node:fs/promises';

/**
 * The service refuses to start on a Node older than package.json `engines.node`: on one it
 * would listen and then fail request by request (Node 20 has no Promise.withResolvers, and
 * every multipart upload answered 500).
 */

/** package.json `engines.node`, read beside src/ or dist/ (the image copies package.json). */
export async function readNodeEngine(): Promise<string> {
  const text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
  const engine = (JSON.parse(text) as { engines?: { node?: unknown } }).engines?.node;
  if (typeof engine !== 'string') throw new Error('package.json names no engines.node');
  return engine;
}

/**
 * Why `running` (process.versions.node) does not satisfy `engine`, or undefined when it does.
 * Only the form the project uses is understood (">=24", ">=24.3", ">=24.3.1"); any other
 * throws, so that a change to `engines` cannot silently turn the check off.
 */
export function unmetNodeEngine(engine: string, running: string): string | undefined {
  const match = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(engine.trim());
  if (match === null) {
    throw new Error(`package.json engines.node must read ">=<version>", not "${engine}"`);
  }
  const needed = match.slice(1).map((part) => Number(part ?? 0));
  const have = running.split('.').map((part) => Number.parseInt(part, 10) || 0);
  for (let index = 0; index < 3; index += 1) {
    const difference = (have[index] ?? 0) - (needed[index] ?? 0);
    if (difference > 0) return undefined;
    if (difference < 0) {
      return `image-ingest needs Node ${engine.trim()} (package.json engines.node); this is Node ${running}`;
    }
  }
  return undefined;
}
