// Python tools the suite runs, each pinned, in its own venv under .tools/ (like the emulator
// binaries there): schemathesis fuzzes the served OpenAPI document (__tests__/http/schemathesis.test.ts).
// Installs from PyPI on the first run; afterwards it only checks the pinned version is there.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const schemathesisVersion = '4.32.5';
export const schemathesisVenv = path.join(root, '.tools', 'venv-schemathesis');
const stamp = path.join(schemathesisVenv, 'installed.version');

const installed = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
if (installed !== schemathesisVersion) {
  console.log(`Installing schemathesis ${schemathesisVersion} into ${schemathesisVenv}...`);
  execFileSync('python3', ['-m', 'venv', '--clear', schemathesisVenv], { stdio: 'inherit' });
  const pip = path.join(schemathesisVenv, 'bin', 'pip');
  execFileSync(
    pip,
    ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${schemathesisVersion}`],
    {
      stdio: 'inherit',
    },
  );
  writeFileSync(stamp, `${schemathesisVersion}\n`);
}
