/**
 * Every package the lock file installs accepts the Node versions we support (package.json engines:
 * >= 20.19; 22 from 22.13, where vite and eslint start; 24), so `npm ci --engine-strict` (CI, .ci/run) passes and `npm install`
 * prints no EBADENGINE warning. fastify's light-my-request pulls cookie 2, which wants Node >= 22:
 * package.json pins cookie ^1.1.1 for it (overrides), which has the same stringifySetCookie.
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }>;
};

describe('engines', () => {
  const floor = semver.minVersion(pkg.engines.node)!.version;
  it.each([floor, '22.13.0', '24.0.0'])('every locked package accepts Node %s', (version) => {
    const refusing = Object.entries(lock.packages)
      .map(([name, p]) => [name, Array.isArray(p.engines) ? undefined : p.engines?.node] as const)
      .filter(([, range]) => range !== undefined && !semver.satisfies(version, range))
      .map(([name, range]) => `${name} (engines.node ${range})`);
    expect(refusing).toEqual([]);
  });

  it('supports Node 20.19 and later', () => {
    expect(floor).toBe('20.19.0');
  });
});
