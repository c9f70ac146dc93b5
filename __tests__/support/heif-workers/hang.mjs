// A HEIF decoder worker that never answers: an endless loop on the image it is handed.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', () => {
  for (;;);
});
parentPort.postMessage('ready');
