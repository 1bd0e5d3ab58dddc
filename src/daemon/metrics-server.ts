// `msnld --metrics HOST:PORT`: GET /metrics answers the Prometheus exposition of a fresh snapshot;
// any other path is 404 and any other method 405. Plain HTTP with no authentication: bind it to
// loopback or a management address (msnld(8) METRICS).

import { createServer, type Server } from 'node:http';
import { CONTENT_TYPE, renderMetrics, type MetricsSnapshot } from './metrics.js';

export class MetricsServer {
  private readonly server: Server;

  constructor(snapshot: () => MetricsSnapshot) {
    this.server = createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (url !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('msnld serves /metrics only\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET only\n');
        return;
      }
      let body: string;
      try {
        body = renderMetrics(snapshot());
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`failed to render metrics: ${error instanceof Error ? error.message : String(error)}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    this.server.headersTimeout = 5000;
    this.server.requestTimeout = 10_000;
  }

  /** Listens on host:port; rejects with the bind error (EADDRINUSE, EADDRNOTAVAIL, ...). */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? { host: address.address, port: address.port } : { host, port });
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
