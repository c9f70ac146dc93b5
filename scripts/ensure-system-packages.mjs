// The browser, Redis and client tests use real programs from Debian's packages: headless
// Chromium (CORS and browser uploads, driven by playwright-core), redis-server (shared rate
// limits), curl and Python's requests (real multipart clients), exiftool (metadata stripping),
// python3-venv (the venv schemathesis is installed into). Installs them once where
// apt-get can (root on Debian, as on our machines and CI); elsewhere it names the command to
// run and stops, so the suite never silently skips those tests.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Each package is present when its binary exists, or, for a library, when a command that
// needs it succeeds.
const needed = [
  { package: 'chromium', binary: '/usr/bin/chromium' },
  { package: 'redis-server', binary: '/usr/bin/redis-server' },
  { package: 'curl', binary: '/usr/bin/curl' },
  { package: 'python3-requests', command: ['python3', '-c', 'import requests'] },
  // exiftool reads stored images back: no location or personal tag may survive stripping.
  { package: 'libimage-exiftool-perl', binary: '/usr/bin/exiftool' },
  // libheif's own decode (heif-convert, with libde265): the reference the HEIC tests hold the
  // service's decode and the grammar's displayed size and stripped pixels against, the optional
  // HEIC_DECODER=native, and the HEIC bench's peer.
  { package: 'libheif-examples', binary: '/usr/bin/heif-convert' },
  // venv with pip, for the pinned Python tools (scripts/ensure-python-tools.mjs: schemathesis).
  { package: 'python3-venv', command: ['python3', '-c', 'import ensurepip, venv'] },
];

function isPresent(item) {
  if (item.binary !== undefined) return existsSync(item.binary);
  try {
    execFileSync(item.command[0], item.command.slice(1), { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = needed.filter((item) => !isPresent(item)).map((item) => item.package);
if (missing.length > 0) {
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canInstall) {
    console.error(`The test suite needs ${missing.join(' and ')}: run  sudo ${command}`);
    process.exit(1);
  }
  console.log(`Installing ${missing.join(', ')} with apt-get (first run only)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', command.split(' ').slice(1), { stdio: 'inherit', env });
}
