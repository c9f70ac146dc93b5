// The cost per MiB of walking a JPEG as the upload path walks it: checking its structure,
// reading its facts and stripping its metadata. Most of large.jpg (1 MiB) is entropy-coded scan
// data, which the walk must scan for markers byte by byte.
//
// Run: npm run build && node scripts/measure-walk.mjs [dist] [before-dist]
// `before-dist`: a build of a commit before issue 16 (src/ingest/container-walker.ts and
// src/images/strip/), measured the same way: the stripper's pass, then the walker's pass over
// the stripped bytes, as the pipeline ran them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const [distArg = path.join(root, 'dist'), beforeArg] = process.argv.slice(2);
const image = readFileSync(path.join(root, '__tests__/fixtures/large.jpg'));
const mib = image.length / 2 ** 20;
const chunk = 64 * 1024;
const rounds = 200;

function inChunks(write) {
  for (let at = 0; at < image.length; at += chunk) write(image.subarray(at, at + chunk));
}

function measure(name, once) {
  for (let round = 0; round < 20; round += 1) once();
  const times = [];
  for (let round = 0; round < rounds; round += 1) {
    const start = process.hrtime.bigint();
    once();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(`${name}: ${(median / mib).toFixed(3)} ms/MiB (median of ${rounds}, 64 KiB chunks)`);
}

const load = (dist, module) => import(pathToFileURL(path.join(dist, module)).href);

const after = await load(distArg, 'images/formats/index.js');
measure('one walk: check + facts + strip', () => {
  const walker = new after.ContainerWalker('image/jpeg', 1e8, { strip: true });
  inChunks((part) => walker.write(part));
  walker.end();
  walker.facts();
});
measure('one walk: check + facts (IMAGE_METADATA=keep)', () => {
  const walker = new after.ContainerWalker('image/jpeg', 1e8);
  inChunks((part) => walker.write(part));
  walker.end();
  walker.facts();
});

if (beforeArg !== undefined) {
  const { createMetadataStripper } = await load(beforeArg, 'images/strip/index.js');
  const { ContainerWalker } = await load(beforeArg, 'ingest/container-walker.js');
  measure('before: strip pass, then walker pass over its output', () => {
    const stripper = createMetadataStripper('image/jpeg');
    const walker = new ContainerWalker('image/jpeg', 1e8);
    inChunks((part) => {
      for (const out of stripper.write(part)) walker.write(out);
    });
    for (const out of stripper.end()) walker.write(out);
    walker.end();
    walker.facts();
  });
  measure('before: walker pass alone (IMAGE_METADATA=keep)', () => {
    const walker = new ContainerWalker('image/jpeg', 1e8);
    inChunks((part) => walker.write(part));
    walker.end();
  });
}
