// The browser and Redis tests use real programs from Debian's packages: headless Chromium
// (CORS, driven by playwright-core) and redis-server (shared rate limits). Installs them
// once where apt-get can (root on Debian, as on our machines and CI); elsewhere it names the
// command to run and stops, so the suite never silently skips those tests.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needed = [
  { package: 'chromium', binary: '/usr/bin/chromium' },
  { package: 'redis-server', binary: '/usr/bin/redis-server' },
];

const missing = needed.filter((item) => !existsSync(item.binary)).map((item) => item.package);
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
