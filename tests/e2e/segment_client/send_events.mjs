// Sends a short customer journey to `upfront serve` with the official Segment
// Node.js client (@segment/analytics-node), exactly as a customer's backend would:
//
//   1. an anonymous visitor views a page and a checkout step (one batch of 2),
//   2. they sign in: identify carrying both userId and anonymousId (this merges the
//      anonymous profile into the known one), then a track under the userId.
//
// Phase 1 is awaited before phase 2 starts so the server sees the anonymous
// profile first and the merge really happens (rather than both arriving at once).
//
// Usage:
//   node send_events.mjs --host http://127.0.0.1:PORT --write-key KEY \
//        --user-id USER --anonymous-id ANON
//
// Exits 0 only when every event was delivered (the client got 2xx for every
// request) and the server's ingest summary for every batch says all events were
// accepted (none rejected, duplicate or late). On any failure it prints
// `send_events: FAIL: ...` to stderr and exits 1. On success it prints one JSON
// line to stdout: {"events":N,"requests":R,"accepted":A}.
//
// Pinned to @segment/analytics-node 3.1.0, the first release that sends the
// writeKey as HTTP Basic auth; earlier ones (2.x, 3.0.0) put it only in the body
// ("writeKey" next to "batch"), which upfront serve answers with 401.
//
// The client is used unchanged; its own FetchHTTPClient does the HTTP. The only
// addition is an observer around it that reads the server's JSON summary, which
// analytics-node itself ignores (it looks at the status code only).

import { parseArgs } from 'node:util';
import { Analytics, FetchHTTPClient } from '@segment/analytics-node';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string' },
    'write-key': { type: 'string' },
    'user-id': { type: 'string' },
    'anonymous-id': { type: 'string' },
  },
  strict: true,
});
for (const name of ['host', 'write-key', 'user-id', 'anonymous-id']) {
  if (!args[name]) {
    console.error(`send_events: FAIL: missing --${name}`);
    process.exit(2);
  }
}
const userId = args['user-id'];
const anonymousId = args['anonymous-id'];

const failures = [];
const fail = (message) => {
  failures.push(message);
  console.error(`send_events: FAIL: ${message}`);
};

// Observes every response: keeps the server's ingest summary for each request.
const summaries = [];
class ObservingHTTPClient extends FetchHTTPClient {
  async makeRequest(options) {
    const response = await super.makeRequest(options);
    const text = await response.clone().text();
    let summary;
    try {
      summary = JSON.parse(text);
    } catch {
      fail(`${options.method} ${options.url} -> ${response.status}: the body is not JSON: ${text.slice(0, 500)}`);
      return response;
    }
    summaries.push({ status: response.status, url: options.url, summary });
    return response;
  }
}

const analytics = new Analytics({
  writeKey: args['write-key'],
  host: args.host, // path defaults to /v1/batch
  flushAt: 2, // phase 1 is one batch of 2, phase 2 another
  flushInterval: 200, // never wait long for a partial batch
  maxRetries: 1, // a failing server fails the test fast instead of backing off for minutes
  httpRequestTimeout: 10000,
  httpClient: new ObservingHTTPClient(),
});

let requests = 0;
analytics.on('http_request', (req) => {
  requests += 1;
  const auth = req.headers?.Authorization ?? req.headers?.authorization ?? '';
  if (!auth.startsWith('Basic ')) fail(`request ${requests} carries no Basic auth header`);
});
analytics.on('http_response', (res) => {
  if (res.status < 200 || res.status >= 300) {
    fail(`POST ${res.url} -> HTTP ${res.status} ${res.statusText}`);
  }
});
analytics.on('error', (err) => {
  const reason = err?.reason?.message ?? String(err?.reason ?? err);
  const what = err?.ctx?.event ? `${err.ctx.event.type} ${err.ctx.event.event ?? err.ctx.event.name ?? ''}`.trim() : 'client';
  fail(`${what}: ${err?.code ?? 'error'}: ${reason}`);
});

// Promise-returning wrappers around the callback API: resolve on delivery,
// reject when the client reports a failed delivery.
let sent = 0;
const call = (method, params) =>
  new Promise((resolve, reject) => {
    sent += 1;
    analytics[method](params, (err, ctx) => (err ? reject(new Error(`${method}: ${err.message ?? err}`)) : resolve(ctx)));
  });

try {
  // Phase 1: anonymous.
  await Promise.all([
    call('page', {
      anonymousId,
      name: 'Payment',
      category: 'Checkout',
      properties: { path: '/checkout/payment', url: 'https://shop.example/checkout/payment', title: 'Payment' },
    }),
    call('track', {
      anonymousId,
      event: 'Checkout Step Viewed',
      properties: { step: 2, coupon: 'dropped-by-policy' },
    }),
  ]);

  // Phase 2: the visitor signs in, then orders.
  await Promise.all([
    call('identify', {
      userId,
      anonymousId,
      traits: { plan: 'pro', country: 'NL', locale: 'nl-NL', favorite_color: 'dropped-by-policy' },
    }),
    call('track', {
      userId,
      event: 'Order Completed',
      properties: { order_id: 'o-e2e-1', revenue: 42.5, currency: 'EUR' },
    }),
  ]);
} catch (err) {
  fail(err.message);
}

try {
  await analytics.closeAndFlush({ timeout: 20000 });
} catch (err) {
  fail(`closeAndFlush: ${err.message ?? err}`);
}

// Every request must have been answered 2xx with a summary that accepted all of it.
let accepted = 0;
for (const { status, url, summary } of summaries) {
  const bad =
    status !== 200 ||
    summary.success !== true ||
    (summary.rejected ?? 0) !== 0 ||
    (summary.duplicates ?? 0) !== 0 ||
    (summary.late ?? 0) !== 0 ||
    (Array.isArray(summary.errors) && summary.errors.length !== 0);
  if (bad) fail(`POST ${url} -> ${status} ${JSON.stringify(summary)}`);
  accepted += summary.accepted ?? 0;
}
if (summaries.length !== requests) fail(`the client made ${requests} requests but ${summaries.length} responses were read`);
if (accepted !== sent) fail(`sent ${sent} events but the server accepted ${accepted}`);

if (failures.length) process.exit(1);
console.log(JSON.stringify({ events: sent, requests, accepted }));
