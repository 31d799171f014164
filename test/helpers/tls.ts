/**
 * Throwaway TLS material for tests, made with the system's openssl: a CA and a server certificate for
 * 127.0.0.1 (subjectAltName IP:127.0.0.1), EC P-256 (fast), valid one day. Also a second, unrelated
 * CA, to check that verification fails against the wrong one.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OPENSSL = '/usr/bin/openssl';

/** Paths of the generated PEM files. */
export interface TlsFiles {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** A CA that did not sign the server certificate. */
  readonly otherCaCert: string;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync(OPENSSL, args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed (${r.status}): ${r.stderr}`);
}

function selfSignedCa(dir: string, name: string, cn: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

/** Generates the CA, the server certificate signed by it, and an unrelated CA into `dir`. */
export function makeTlsFiles(dir: string): TlsFiles {
  const ca = selfSignedCa(dir, 'ca', 'iam-watcher test CA');
  const other = selfSignedCa(dir, 'other-ca', 'iam-watcher unrelated CA');
  const serverKey = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const serverCert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    serverKey,
    '-out',
    csr,
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(
    ext,
    [
      'subjectAltName=IP:127.0.0.1',
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    serverCert,
    '-days',
    '1',
    '-extfile',
    ext,
  ]);
  return { dir, caCert: ca.cert, caKey: ca.key, serverCert, serverKey, otherCaCert: other.cert };
}
