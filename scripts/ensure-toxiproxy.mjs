// Installs the pinned toxiproxy server (Shopify's TCP fault proxy, written in Go) into
// .tools/bin as toxiproxy-server, once. The storage fault tests put it between the service
// and fake-gcs-server; they never run without it.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const toxiproxyModule = 'github.com/Shopify/toxiproxy/v2';
export const toxiproxyVersion = 'v2.12.0';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const binDir = path.join(root, '.tools', 'bin');
const binary = path.join(binDir, 'toxiproxy-server');
const stamp = path.join(binDir, 'toxiproxy-server.version');

const installed =
  existsSync(binary) &&
  existsSync(stamp) &&
  readFileSync(stamp, 'utf8').trim() === toxiproxyVersion;
if (!installed) {
  mkdirSync(binDir, { recursive: true });
  console.log(
    `Installing ${toxiproxyModule}@${toxiproxyVersion} with go install (first run only)...`,
  );
  // The server's package is cmd/server, so go install names the binary "server"; it is built
  // into a scratch folder and renamed to avoid clobbering anything else called that.
  const scratch = mkdtempSync(path.join(tmpdir(), 'toxiproxy-'));
  try {
    execFileSync('go', ['install', `${toxiproxyModule}/cmd/server@${toxiproxyVersion}`], {
      stdio: 'inherit',
      env: { ...process.env, GOBIN: scratch, CGO_ENABLED: '0' },
    });
    renameSync(path.join(scratch, 'server'), binary);
  } catch {
    console.error(
      'Could not install toxiproxy. The storage fault tests need Go (https://go.dev/dl/) on the PATH.',
    );
    process.exit(1);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  writeFileSync(stamp, `${toxiproxyVersion}\n`);
}
