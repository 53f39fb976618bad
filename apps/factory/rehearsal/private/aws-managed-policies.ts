/**
 * The AWS managed policies the rehearsal can model: their documents as AWS publishes
 * them. A role that attaches any other fails the load, naming the policy, rather than
 * being evaluated with permissions it may not have (or without ones it has).
 */
import type { PolicyDocument } from './policy-document';

const AWS_MANAGED: Readonly<Record<string, PolicyDocument>> = {
  // The CDK's AwsCustomResource provider (the warehouse's ECR account setting) attaches it.
  'service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
};

/** The path of an AWS managed policy ARN (`arn:aws:iam::aws:policy/<path>`), or undefined for another ARN. */
export function awsManagedPolicyPath(arn: string): string | undefined {
  return /^arn:[^:]+:iam::aws:policy\/(.+)$/.exec(arn)?.[1];
}

/** The document of an AWS managed policy, or undefined when the rehearsal does not model it. */
export function awsManagedPolicy(path: string): PolicyDocument | undefined {
  return AWS_MANAGED[path];
}

/** The AWS managed policies the rehearsal models (for messages). */
export const MODELLED_AWS_MANAGED_POLICIES: readonly string[] = Object.keys(AWS_MANAGED);
