import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.ts';

const STATUS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * Malformed HTTP (a bad request line, oversized headers, a request that timed out before its
 * headers were complete) is the client's fault: a `warn` line with the parser's code, and the
 * same minimal answer Node gives by default. A reset connection is nobody's news.
 */
export function clientErrorHandler(logger: Logger): (error: Error & { code?: string }, socket: Duplex) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    logger.warn({ parseError: error.code, reason: error.message }, 'malformed HTTP request');
    socket.end(`HTTP/1.1 ${STATUS[error.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
}
