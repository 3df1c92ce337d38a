/** Debian's Python and its client libraries (python3-slixmpp, python3-paho-mqtt) for end-to-end tests. */
import { execFileSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

/** Can Debian's python3 import `module` (e.g. `slixmpp`, `slixmpp.plugins.xep_0198`)? */
export function hasPythonModule(module: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
