// A HEIF decoder worker that dies as soon as it is handed an image (a segfault in libde265 looks the same to the pool).
import { parentPort } from 'node:worker_threads';

parentPort.on('message', () => process.exit(70));
parentPort.postMessage('ready');
