#!/usr/bin/env node
/**
 * The AWS CLI as the rehearsal's buildspecs meet it: the commands the factory's
 * buildspecs call, done with the AWS SDK and the build's own credentials and endpoint
 * (AWS_ACCESS_KEY_ID…, AWS_ENDPOINT_URL: the gateway), so that each call meets the
 * project role's policies as the real CLI's would. Any other command fails, naming the
 * commands this stands in for, so a buildspec that starts calling something new is seen.
 *
 *   aws s3 cp [--only-show-errors] s3://BUCKET/KEY FILE
 *   aws ecr get-login-password
 */
'use strict';
const { writeFileSync } = require('node:fs');

const SUPPORTED = ['aws s3 cp [--only-show-errors] s3://BUCKET/KEY FILE', 'aws ecr get-login-password'];

function fail(message, code = 252) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** The CLI's message for an SDK error: `An error occurred (Code) when calling the Op operation: message`. */
function sdkFailure(operation, error) {
  fail(`An error occurred (${error.name}) when calling the ${operation} operation: ${error.message}`, 1);
}

async function s3Copy(args) {
  const positional = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--only-show-errors');
  if (unknown.length || positional.length !== 2 || !positional[0].startsWith('s3://')) fail(`usage: ${SUPPORTED[0]} (got: aws s3 cp ${args.join(' ')})`);
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(positional[0]) ?? [];
  if (!bucket || !key) fail(`'${positional[0]}' is not s3://BUCKET/KEY`);
  const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3');
  const s3 = new S3Client({ forcePathStyle: true, maxAttempts: 1 });
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    writeFileSync(positional[1], Buffer.from(await out.Body.transformToByteArray()));
  } catch (error) {
    sdkFailure('GetObject', error);
  }
  if (!args.includes('--only-show-errors')) process.stdout.write(`download: ${positional[0]} to ${positional[1]}\n`);
}

async function ecrLoginPassword(args) {
  if (args.length) fail(`usage: ${SUPPORTED[1]} (got: aws ecr get-login-password ${args.join(' ')})`);
  const { ECRClient, GetAuthorizationTokenCommand } = require('@aws-sdk/client-ecr');
  const ecr = new ECRClient({ maxAttempts: 1 });
  try {
    const out = await ecr.send(new GetAuthorizationTokenCommand({}));
    const token = Buffer.from(out.authorizationData?.[0]?.authorizationToken ?? '', 'base64').toString('utf8');
    process.stdout.write(`${token.slice(token.indexOf(':') + 1)}\n`);
  } catch (error) {
    sdkFailure('GetAuthorizationToken', error);
  }
}

async function main(argv) {
  const [service, command, ...rest] = argv;
  if (service === 's3' && command === 'cp') return s3Copy(rest);
  if (service === 'ecr' && command === 'get-login-password') return ecrLoginPassword(rest);
  fail(`the rehearsal's aws does not model 'aws ${argv.join(' ')}'; it stands in for:\n  ${SUPPORTED.join('\n  ')}`);
}

main(process.argv.slice(2)).catch((error) => fail(error && error.stack ? error.stack : String(error), 255));
