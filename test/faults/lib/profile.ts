/**
 * How long the faults last. `FAULTS_PROFILE=ci` (what `make test` runs) shortens every window so the
 * whole suite fits CI; the default is the full form of `make test-faults`.
 */
export const CI = process.env.FAULTS_PROFILE === 'ci';

function num(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
}

export const PROFILE = {
  /** Soak length. */
  soakMinutes: num('SOAK_MINUTES', CI ? 1 : 10),
  /** Redis down for this long. */
  redisOutageS: CI ? 10 : 15,
  /** Seconds of steady running before and after a fault. */
  settleS: CI ? 4 : 8,
  /** Rows seeded for the long `clean` runs. */
  auditRows: CI ? 6_000 : 12_000,
} as const;
