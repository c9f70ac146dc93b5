// `npm run dev`: the service restarted on every change to src/. Node cannot run src/ directly
// (its imports name the compiled ".js" files, which type stripping does not rewrite), so tsc
// recompiles into dist/ on change and `node --watch` restarts dist/index.js when dist changes.
//
// Runs with Node's built-in type stripping (no build step for the script itself).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tscBin = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const tsc = spawn(
  process.execPath,
  [tscBin, '-p', 'tsconfig.build.json', '--watch', '--preserveWatchOutput'],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
let service: ChildProcess | undefined;

tsc.stdout.setEncoding('utf8');
tsc.stdout.on('data', (text: string) => {
  process.stdout.write(text);
  // The first complete compile starts the service; later compiles restart it through --watch.
  if (service === undefined && /Found \d+ errors?\. Watching for file changes/.test(text)) {
    service = spawn(process.execPath, ['--watch', 'dist/index.js'], {
      cwd: root,
      stdio: 'inherit',
    });
    service.on('exit', (code) => stop(code ?? 0));
  }
});
tsc.on('exit', (code) => stop(code ?? 1));

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  tsc.kill('SIGTERM');
  service?.kill('SIGTERM');
  process.exitCode = code;
}
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));
