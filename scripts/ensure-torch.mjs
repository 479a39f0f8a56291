// Makes sure Debian's PyTorch is available for the PyTorch twin's tests (scripts/torch/).
// Honours EARSHOT_PYTHON; on Debian as root it installs python3-torch, python3-torchaudio and
// libopenblas0-pthread; otherwise it says what to install and lets the tests fail with that hint.
import { existsSync } from 'node:fs';
import { execSync, spawnSync } from 'node:child_process';

const python = process.env.EARSHOT_PYTHON || '/usr/bin/python3';
const hasTorch = () => existsSync(python) && spawnSync(python, ['-c', 'import torch, torchaudio'], { stdio: 'ignore' }).status === 0;
if (hasTorch()) process.exit(0);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!process.env.EARSHOT_PYTHON && isRoot && existsSync('/usr/bin/apt-get')) {
  console.error("PyTorch not found in /usr/bin/python3: installing Debian's python3-torch, python3-torchaudio and libopenblas0-pthread...");
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchaudio libopenblas0-pthread', { stdio: 'inherit' });
  if (hasTorch()) process.exit(0);
}
console.error(
  `The PyTorch twin's tests need torch and torchaudio in ${python}: run \`sudo apt-get install -y python3-torch python3-torchaudio libopenblas0-pthread\` ` +
    '(Debian/Ubuntu), or set EARSHOT_PYTHON to a Python that has them. Those tests will fail until then.',
);
