/**
 * The one endpoint every AWS call of a rehearsal goes to (`AWS_ENDPOINT_URL`): it reads
 * who signed the request from its SigV4 credentials, works out the IAM action and
 * resource as the service would, asks the IAM model whether the principal may, and only
 * then answers (the authorizer records each decision): ECR from the ECR front over the local registry, CodePipeline's job API
 * from the pipeline engine, S3, DynamoDB, SSM and KMS from moto. S3 reads and writes of
 * SSE-KMS objects also need the KMS actions on the object's key, as in AWS. A denied
 * call gets the error AWS gives (AccessDenied).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureScope, type CredentialBook } from './credentials';

/** What the gateway asks before it answers. */
export interface GatewayAuthorizer {
  authorize(request: {
    principal: string;
    action: string;
    resource: string;
    context?: Record<string, string | string[]>;
  }): Promise<{ allowed: boolean; why: string }>;
}

/** The ECR service behind the gateway (see ecr-front.ts). */
export interface GatewayEcr {
  handleApi(operation: string, body: unknown, principal: { arn: string }): Promise<{ status: number; headers: Record<string, string>; body: string }>;
  handleRegistry(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** The CodePipeline job API a Lambda action calls back, answered by the pipeline engine. */
export interface GatewayCodePipeline {
  handle(operation: string, body: Record<string, unknown>, principal: string): Promise<Record<string, unknown>>;
}

export interface AwsGatewayProps {
  readonly account: string;
  readonly region: string;
  readonly credentials: CredentialBook;
  readonly authorizer: GatewayAuthorizer;
  /** `http://127.0.0.1:<port>` of moto_server. */
  readonly moto: string;
  readonly ecr: GatewayEcr;
  readonly codepipeline: GatewayCodePipeline;
  /** The partition key attribute of a DynamoDB table, for `dynamodb:LeadingKeys`. */
  readonly partitionKeyOf?: (table: string) => string | undefined;
  /** Called after an S3 `PutObject` that succeeded (the source bucket's EventBridge notification). */
  readonly onObjectCreated?: (event: {
    bucket: string;
    key: string;
    versionId?: string;
    etag?: string;
    size: number;
    principal: string;
  }) => Promise<void> | void;
}

/** Largest request body the gateway reads: an uploaded configuration is at most 50 MiB. */
export const MAX_GATEWAY_BODY_BYTES = 64 * 1024 * 1024;

class GatewayRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const JSON_TARGET_PREFIX: Readonly<Record<string, string>> = {
  AmazonEC2ContainerRegistry_V20150921: 'ecr',
  DynamoDB_20120810: 'dynamodb',
  AmazonSSM: 'ssm',
  TrentService: 'kms',
  CodePipeline_20150709: 'codepipeline',
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_GATEWAY_BODY_BYTES)
      throw new GatewayRequestError(413, 'EntityTooLarge', `the request body is over ${MAX_GATEWAY_BODY_BYTES} bytes, the rehearsal gateway's limit`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** What AWS says when IAM says no. */
const deniedMessage = (principal: string, action: string, resource: string, why: string) =>
  `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} because ${why}`;

/**
 * The gateway. `start()` listens on a loopback port; `endpoint` is what the SDK's
 * `AWS_ENDPOINT_URL` is set to.
 */
export class AwsGateway {
  private server?: Server;
  private url?: string;

  constructor(private readonly props: AwsGatewayProps) {}

  get endpoint(): string {
    if (!this.url) throw new Error('the gateway is not started');
    return this.url;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        const e =
          error instanceof GatewayRequestError
            ? error
            : new GatewayRequestError(500, 'InternalFailure', error instanceof Error ? error.message : String(error));
        if (!res.headersSent) res.writeHead(e.status, { 'content-type': 'application/json', 'x-amzn-errortype': e.code });
        res.end(JSON.stringify({ __type: e.code, message: e.message }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Checks one action and records it; throws the service's AccessDenied when IAM says no. */
  async check(principal: string, service: string, action: string, resource: string, context?: Record<string, string | string[]>): Promise<void> {
    const decision = await this.props.authorizer.authorize({ principal, action, resource, context: { 'aws:SecureTransport': 'true', ...context } });
    if (!decision.allowed)
      throw new GatewayRequestError(
        service === 's3' ? 403 : 400,
        service === 's3' ? 'AccessDenied' : 'AccessDeniedException',
        deniedMessage(principal, action, resource, decision.why),
      );
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const scope = signatureScope(req.headers.authorization);
    // The OCI endpoint of ECR (Basic credentials from GetAuthorizationToken) and its layer URLs.
    if (!scope) return this.props.ecr.handleRegistry(req, res);
    const principal = this.props.credentials.principalOf(scope.accessKeyId);
    if (!principal) {
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'UnrecognizedClientException' });
      res.end(JSON.stringify({ __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }));
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target) {
      const [prefix, operation] = target.split('.');
      const service = JSON_TARGET_PREFIX[prefix];
      if (!service) throw new GatewayRequestError(400, 'UnknownOperationException', `the rehearsal does not model ${target}`);
      const body = await readBody(req);
      const json = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      return this.json(service, operation, json, body, req, res, principal);
    }
    if (scope.service === 's3') return this.s3(req, res, principal);
    if (scope.service === 'sts') return this.sts(req, res, principal);
    throw new GatewayRequestError(400, 'UnknownOperationException', `the rehearsal does not model the ${scope.service} service (${req.method} ${req.url})`);
  }

  private arn(service: string, resource: string): string {
    return `arn:aws:${service}:${this.props.region}:${this.props.account}:${resource}`;
  }

  private async json(
    service: string,
    operation: string,
    json: Record<string, unknown>,
    raw: Buffer,
    req: IncomingMessage,
    res: ServerResponse,
    principal: string,
  ): Promise<void> {
    const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...headers });
      res.end(body);
    };
    try {
      if (service === 'ecr') {
        const out = await this.props.ecr.handleApi(operation, json, { arn: principal });
        return reply(out.status, out.body, out.headers);
      }
      if (service === 'codepipeline') {
        // The job API and ListPipelines take no resource; the rest name a pipeline.
        const pipeline = json.pipelineName ?? json.name;
        await this.check(principal, service, `codepipeline:${operation}`, pipeline ? this.arn('codepipeline', String(pipeline)) : '*');
        let out: Record<string, unknown>;
        try {
          out = await this.props.codepipeline.handle(operation, json, principal);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const code = /^([A-Za-z]+Exception):/.exec(message)?.[1] ?? 'ValidationException';
          return reply(400, JSON.stringify({ __type: code, message }), { 'x-amzn-errortype': code });
        }
        return reply(200, JSON.stringify(out));
      }
      if (service === 'dynamodb') {
        const table = String(json.TableName ?? '');
        const pk = this.props.partitionKeyOf?.(table);
        const item = (json.Item ?? json.Key) as Record<string, { S?: string }> | undefined;
        const leading = pk && item?.[pk]?.S;
        await this.check(
          principal,
          service,
          `dynamodb:${operation}`,
          this.arn('dynamodb', `table/${table}`),
          leading ? { 'dynamodb:LeadingKeys': [leading] } : undefined,
        );
      } else if (service === 'ssm') {
        const names = operation === 'GetParameters' ? ((json.Names as string[]) ?? []) : [String(json.Name ?? json.Path ?? '')];
        for (const name of names) await this.check(principal, service, `ssm:${operation}`, this.arn('ssm', `parameter/${name.replace(/^\//, '')}`));
      } else if (service === 'kms') {
        await this.check(principal, service, `kms:${operation}`, String(json.KeyId ?? '*'));
      }
    } catch (error) {
      if (error instanceof GatewayRequestError)
        return reply(error.status, JSON.stringify({ __type: error.code, message: error.message }), { 'x-amzn-errortype': error.code });
      throw error;
    }
    const forwarded = await this.forward(req, raw);
    res.writeHead(forwarded.status, forwarded.headers);
    res.end(forwarded.body);
  }

  private async sts(req: IncomingMessage, res: ServerResponse, principal: string): Promise<void> {
    const body = (await readBody(req)).toString('utf8');
    if (!/Action=GetCallerIdentity/.test(body)) throw new GatewayRequestError(400, 'InvalidAction', 'the rehearsal answers only sts:GetCallerIdentity');
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${principal}</Arn><UserId>REHEARSAL</UserId><Account>${this.props.account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>rehearsal</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  }

  /** S3 in path style (the SDK uses it for an IP endpoint): the action and resource as S3 authorizes them, and KMS for SSE-KMS objects. */
  private async s3(req: IncomingMessage, res: ServerResponse, principal: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const bucketArn = `arn:aws:s3:::${bucket}`;
    const objectArn = `${bucketArn}/${key}`;
    const raw = method === 'PUT' || method === 'POST' ? await readBody(req) : Buffer.alloc(0);
    try {
      if (!key) {
        const action =
          method === 'PUT'
            ? 's3:CreateBucket'
            : q.has('versions')
              ? 's3:ListBucketVersions'
              : q.has('location')
                ? 's3:GetBucketLocation'
                : q.has('encryption')
                  ? 's3:GetEncryptionConfiguration'
                  : 's3:ListBucket';
        await this.check(principal, 's3', action, bucketArn, q.get('prefix') ? { 's3:prefix': q.get('prefix')! } : undefined);
      } else if (method === 'GET' || method === 'HEAD') {
        await this.check(principal, 's3', q.has('versionId') ? 's3:GetObjectVersion' : 's3:GetObject', objectArn);
        const kmsKey = await this.objectKey(bucket, key, q.get('versionId') ?? undefined);
        if (kmsKey) await this.check(principal, 'kms', 'kms:Decrypt', kmsKey, { 'kms:ViaService': `s3.${this.props.region}.amazonaws.com` });
      } else if (method === 'PUT' || method === 'POST') {
        const copy = req.headers['x-amz-copy-source'];
        if (copy) await this.check(principal, 's3', 's3:GetObject', `arn:aws:s3:::${decodeURIComponent(String(copy)).replace(/^\//, '').split('?')[0]}`);
        await this.check(principal, 's3', q.has('tagging') ? 's3:PutObjectTagging' : 's3:PutObject', objectArn);
        const kmsKey = String(req.headers['x-amz-server-side-encryption-aws-kms-key-id'] ?? '') || (await this.bucketKey(bucket));
        if (kmsKey) await this.check(principal, 'kms', 'kms:GenerateDataKey', kmsKey, { 'kms:ViaService': `s3.${this.props.region}.amazonaws.com` });
      } else if (method === 'DELETE') {
        await this.check(principal, 's3', q.has('versionId') ? 's3:DeleteObjectVersion' : 's3:DeleteObject', objectArn);
      }
    } catch (error) {
      if (!(error instanceof GatewayRequestError)) throw error;
      res.writeHead(error.status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message><RequestId>rehearsal</RequestId></Error>`,
      );
      return;
    }
    const forwarded = await this.forward(req, raw);
    res.writeHead(forwarded.status, forwarded.headers);
    res.end(forwarded.body);
    if (method === 'PUT' && key && forwarded.status === 200 && !q.has('tagging') && !q.has('uploadId') && this.props.onObjectCreated) {
      await this.props.onObjectCreated({
        bucket,
        key,
        versionId: forwarded.headers['x-amz-version-id'] as string | undefined,
        etag: forwarded.headers.etag as string | undefined,
        size: raw.length,
        principal,
      });
    }
  }

  /** The KMS key of an object (moto records what S3 was told), read without a principal: S3's own look-up. */
  private async objectKey(bucket: string, key: string, versionId?: string): Promise<string | undefined> {
    const head = await this.motoRequest(
      'HEAD',
      `/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}${versionId ? `?versionId=${encodeURIComponent(versionId)}` : ''}`,
    );
    return head.status === 200 && head.headers['x-amz-server-side-encryption'] === 'aws:kms'
      ? (head.headers['x-amz-server-side-encryption-aws-kms-key-id'] as string | undefined)
      : undefined;
  }

  /** The default KMS key of a bucket (its encryption configuration in moto). */
  private async bucketKey(bucket: string): Promise<string | undefined> {
    const out = await this.motoRequest('GET', `/${bucket}?encryption`);
    return out.status === 200 ? /<KMSMasterKeyID>([^<]+)<\/KMSMasterKeyID>/.exec(out.body.toString('utf8'))?.[1] : undefined;
  }

  private motoRequest(method: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const target = new URL(path, this.props.moto);
    return new Promise((resolve, reject) => {
      const r = httpRequest(
        target,
        {
          method,
          headers: { authorization: `AWS4-HMAC-SHA256 Credential=REHEARSAL/20260101/${this.props.region}/s3/aws4_request, SignedHeaders=host, Signature=0` },
        },
        (out) => {
          const chunks: Buffer[] = [];
          out.on('data', (c: Buffer) => chunks.push(c));
          out.on('end', () => resolve({ status: out.statusCode ?? 500, headers: out.headers, body: Buffer.concat(chunks) }));
        },
      );
      r.on('error', reject);
      r.end();
    });
  }

  /** Sends the request on to moto as it came (moto does not check signatures). */
  private forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const target = new URL(req.url ?? '/', this.props.moto);
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    return new Promise((resolve, reject) => {
      const r = httpRequest(target, { method: req.method, headers }, (out) => {
        const chunks: Buffer[] = [];
        out.on('data', (c: Buffer) => chunks.push(c));
        out.on('end', () => {
          const h = { ...out.headers };
          delete h['transfer-encoding'];
          resolve({ status: out.statusCode ?? 500, headers: h, body: Buffer.concat(chunks) });
        });
      });
      r.on('error', reject);
      r.end(body);
    });
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
