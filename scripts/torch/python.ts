// Finding a Python that has PyTorch, for the tests and scripts that drive python/earshot_torch.
// Debian's python3-torch installs into /usr/bin/python3; a pyenv or venv python3 earlier on PATH
// usually lacks it. EARSHOT_PYTHON overrides the choice.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const TORCH_INSTALL_HINT =
  'PyTorch for python3 is missing: install Debian\'s packages (apt-get install -y python3-torch python3-torchaudio libopenblas0-pthread; .ci/run does it) or set EARSHOT_PYTHON to a python3 that has torch';

/** The interpreter to run python/earshot_torch with; throws a readable error when none has torch. */
export function torchPython(): string {
  const candidates = [process.env.EARSHOT_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p && (p === 'python3' || existsSync(p)));
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  throw new Error(`${TORCH_INSTALL_HINT} (tried ${candidates.join(', ')})`);
}
