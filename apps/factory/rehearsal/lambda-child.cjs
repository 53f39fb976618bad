// Runs one Lambda invocation of a bundle from a cloud assembly, in a process of its own,
// as the Lambda runtime would: the function's environment is this process's, the handler
// gets the event and a context whose remaining time counts down from the timeout. HTTPS
// calls to the registry host (ECR's OCI endpoint) go to the rehearsal gateway instead.
// argv: <bundle dir> <handler, e.g. index.handler> <event file> <result file>
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const [dir, handlerName, eventFile, resultFile] = process.argv.slice(2);
const registryHost = process.env.REHEARSAL_REGISTRY_HOST;
const gateway = process.env.AWS_ENDPOINT_URL;
const timeoutMs = Number(process.env.REHEARSAL_TIMEOUT_MS);
const started = Date.now();

const realFetch = globalThis.fetch;
/** Statuses whose answer has no body (a Response with one cannot be built). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
globalThis.fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
  if (registryHost && url.host === registryHost) {
    const to = new URL(gateway);
    url.protocol = to.protocol;
    url.host = to.host;
    const res = await realFetch(url, typeof input === 'string' || input instanceof URL ? init : { ...input, ...init });
    // The function talks to ECR at the registry host: a Location the front gives on the
    // gateway (an upload session, a redirect) is on the registry host for the function, as ECR's are.
    const location = res.headers.get('location');
    const target = location === null ? undefined : new URL(location, url);
    if (!target || target.origin !== to.origin) return res;
    const headers = new Headers(res.headers);
    headers.set('location', `https://${registryHost}${target.pathname}${target.search}`);
    return new Response(NULL_BODY.has(res.status) ? null : res.body, { status: res.status, statusText: res.statusText, headers });
  }
  return realFetch(input, init);
};

const [file, exported] = handlerName.split('.');
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  awsRequestId: process.env.REHEARSAL_REQUEST_ID,
  getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
};
(async () => {
  const mod = require(join(dir, file));
  const result = await mod[exported](JSON.parse(readFileSync(eventFile, 'utf8')), context);
  writeFileSync(resultFile, JSON.stringify({ ok: true, result: result === undefined ? null : result }));
})().catch((error) => {
  writeFileSync(resultFile, JSON.stringify({ ok: false, error: { name: error && error.name, message: error && error.message ? error.message : String(error) } }));
});
