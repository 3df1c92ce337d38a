/** Process entry: `bin/vigil.js` calls main(argv). */
import { runCli } from './cli/index.js';

export function main(argv: string[]): Promise<number> {
  return runCli(argv);
}
