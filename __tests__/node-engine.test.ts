import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { readNodeEngine, unmetNodeEngine } from '../src/node-engine.js';

describe('unmetNodeEngine', () => {
  it('passes a Node at or past the required version', () => {
    expect(unmetNodeEngine('>=24', '24.0.0')).toBeUndefined();
    expect(unmetNodeEngine('>=24', '26.10.0')).toBeUndefined();
    expect(unmetNodeEngine('>=24.3', '24.3.0')).toBeUndefined();
    expect(unmetNodeEngine('>=24.3.1', '24.4.0')).toBeUndefined();
    expect(unmetNodeEngine('>=24.3.1', '25.0.0')).toBeUndefined();
  });

  it('names what is needed and what runs when the Node is older', () => {
    expect(unmetNodeEngine('>=24', '20.20.2')).toBe(
      'image-ingest needs Node >=24 (package.json engines.node); this is Node 20.20.2',
    );
    expect(unmetNodeEngine('>=24.3', '24.2.9')).toMatch(/needs Node >=24.3\b/);
    expect(unmetNodeEngine('>=24.3.1', '24.3.0')).toMatch(/this is Node 24.3.0$/);
  });

  it('throws on a range it does not understand rather than letting every Node through', () => {
    expect(() => unmetNodeEngine('^24 || ^26', '26.10.0')).toThrow(/engines.node must read/);
    expect(() => unmetNodeEngine('24', '26.10.0')).toThrow(/engines.node must read/);
  });

  it("reads the project's own engines.node", async () => {
    const manifest = JSON.parse(await readFile('package.json', 'utf8')) as {
      engines: { node: string };
    };
    await expect(readNodeEngine()).resolves.toBe(manifest.engines.node);
    // The Node these tests run on is the one the project pins: it must pass its own check.
    expect(unmetNodeEngine(manifest.engines.node, process.versions.node)).toBeUndefined();
  });
});
