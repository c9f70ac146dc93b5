// Installs the pinned fake-gcs-server (a real GCS-protocol server written in Go) into
// .tools/bin, once. The storage tests start it; they never run without it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const fakeGcsServerModule = 'github.com/fsouza/fake-gcs-server';
export const fakeGcsServerVersion = 'v1.56.1';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binDir = path.join(root, '.tools', 'bin');
const binary = path.join(binDir, 'fake-gcs-server');
const stamp = path.join(binDir, 'fake-gcs-server.version');

const installed =
  existsSync(binary) &&
  existsSync(stamp) &&
  readFileSync(stamp, 'utf8').trim() === fakeGcsServerVersion;
if (!installed) {
  mkdirSync(binDir, { recursive: true });
  console.log(
    `Installing ${fakeGcsServerModule}@${fakeGcsServerVersion} with go install (first run only)...`,
  );
  try {
    execFileSync('go', ['install', `${fakeGcsServerModule}@${fakeGcsServerVersion}`], {
      stdio: 'inherit',
      env: { ...process.env, GOBIN: binDir, CGO_ENABLED: '0' },
    });
  } catch {
    console.error(
      'Could not install the GCS emulator. The storage tests need Go (https://go.dev/dl/) on the PATH.',
    );
    process.exit(1);
  }
  writeFileSync(stamp, `${fakeGcsServerVersion}\n`);
}
