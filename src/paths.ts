// Paths inside the project itself (codelists, SQL, sample data), wherever it is run from.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}
