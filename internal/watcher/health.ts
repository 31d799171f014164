/**
 * The health listener: `GET /healthz` (the Go original's path and body) says the process and its
 * event loop are alive; `GET /readyz` says the dependencies answer and every watcher is scheduled;
 * `GET /metrics` serves Prometheus text when a metrics source is given; `GET /` and `/status` serve
 * the HTML status page when one is given (`status-page.enabled`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from '../pkg/net/host-port.js';
import { StartupError } from './errors.js';

/** What `/readyz` reports: ready, or the reasons it is not. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, string>>;
}

export interface HealthServerOptions {
  readonly address: HostPort;
  /** `health-check-path` without or with the leading slash (`healthz`). */
  readonly healthPath: string;
  readonly readiness: () => Promise<Readiness>;
  /** Prometheus exposition: content type and body. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The status page: its headers (type, CSP, ...) and HTML. */
  readonly statusPage?: () => Promise<{ headers: Readonly<Record<string, string>>; body: string }>;
}

export interface HealthServer {
  /** The bound address (the real port when 0 was asked). */
  readonly address: HostPort;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function handler(o: HealthServerOptions) {
  const healthPath = `/${o.healthPath.replace(/^\/+/, '')}`;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, '{"error":"method not allowed"}');
    if (path === healthPath) return send(res, 200, '{"status":"ok"}');
    if (path === '/readyz') {
      const r = await o.readiness();
      return send(
        res,
        r.ready ? 200 : 503,
        JSON.stringify({ status: r.ready ? 'ready' : 'not ready', ...r }),
      );
    }
    if (path === '/metrics' && o.metrics) {
      const m = await o.metrics();
      return send(res, 200, m.body, m.contentType);
    }
    if ((path === '/' || path === '/status') && o.statusPage) {
      const page = await o.statusPage();
      res.writeHead(200, page.headers);
      return void res.end(page.body);
    }
    return send(res, 404, '{"error":"not found"}');
  };
}

/** Starts listening. @throws StartupError naming the address when it cannot bind. */
export async function startHealthServer(o: HealthServerOptions): Promise<HealthServer> {
  const handle = handler(o);
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, '{"error":"internal error"}'));
  });
  server.keepAliveTimeout = 5_000;
  const where = `${o.address.host.includes(':') ? `[${o.address.host}]` : o.address.host}:${o.address.port}`;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new StartupError(`health-check-address ${where}: listen ${err.code ?? err.message}`, { cause: err }),
      ),
    );
    server.listen(o.address.port, o.address.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    address: { host: bound.address, port: bound.port },
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
