// A HEIF decoder worker that allocates until its heap limit (resourceLimits) ends it.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', () => {
  const held = [];
  for (;;) held.push(new Array(1024 * 1024).fill(held.length));
});
parentPort.postMessage('ready');
