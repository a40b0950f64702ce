import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

const STATUS: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  422: '422 Unprocessable Entity',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export function send(res: HttpResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  res.cork(() => {
    res
      .writeStatus(STATUS[status] ?? String(status))
      .writeHeader('content-type', contentType)
      .writeHeader('cache-control', 'no-store');
    for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
    res.end(body);
  });
}

export const sendJson = (res: HttpResponse, status: number, body: unknown, headers?: Record<string, string>) =>
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);

/**
 * Runs an async handler; uWS needs `onAborted` before any await, and nothing may be written
 * to a response whose client has gone.
 */
export function asyncRoute(handler: (res: HttpResponse, aborted: () => boolean, url: string, query: URLSearchParams) => Promise<void>) {
  return (res: HttpResponse, req: HttpRequest) => {
    const url = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? '');
    let gone = false;
    res.onAborted(() => {
      gone = true;
    });
    handler(res, () => gone, url, query).catch(() => {
      if (!gone) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
    });
  };
}
