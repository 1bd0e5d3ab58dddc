// Guard for tests that run system tools: they come from the one list scripts/system-tools, which
// `npm test` installs first (its pretest runs scripts/system-deps). A missing tool fails the test
// loudly, naming the package, never skips it.
import { missingPackages } from '../../src/demo/system-tools.js';

export function requireTools(commands: readonly string[]): void {
  const missing = missingPackages(commands);
  if (missing.length > 0) {
    throw new Error(`missing system packages: ${missing.join(' ')}: install them as root with \`bash scripts/system-deps\` (npm test's pretest does)`);
  }
}
