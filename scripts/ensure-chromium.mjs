// Makes sure a Chromium with WebGPU is available for the browser tests.
// Honours CHROME_PATH; on Debian as root it installs the `chromium` package; otherwise it says what to do.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const wanted = process.env.CHROME_PATH || '/usr/bin/chromium';
if (existsSync(wanted)) process.exit(0);
if (process.env.CHROME_PATH) {
  console.error(`CHROME_PATH is set to ${wanted}, but no file is there.`);
  process.exit(1);
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = existsSync('/usr/bin/apt-get');
if (isRoot && hasApt) {
  console.error('Chromium not found: installing Debian\'s chromium package (apt-get install -y chromium)...');
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit' });
  if (existsSync(wanted)) process.exit(0);
}
console.error(
  'The browser tests need Chromium: run `sudo apt-get install -y chromium` (Debian/Ubuntu), ' +
    'or set CHROME_PATH to a Chrome/Chromium binary.',
);
process.exit(1);
