/**
 * Token authentication of the export API (`apiAuth: 'token'`): Label Studio's `Authorization:
 * Token <key>` checked by a Lambda authorizer (functions/handlers/token-authorizer.ts) against a
 * Secrets Manager secret whose `AWSCURRENT` and `AWSPREVIOUS` versions are the valid keys. The
 * secret is generated at deploy time (48 letters and digits); rotating it is putting a new secret
 * version (README "Call the API").
 */
import { Duration } from 'aws-cdk-lib';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { PipelineFunction } from '../pipeline-function.ts';
import { markGroupingScope } from './logical-ids.ts';
import type { PipelineProps } from './pipeline.ts';

/** Seconds API Gateway caches an authorizer answer per `Authorization` header value. */
export const TOKEN_AUTHORIZER_CACHE_SECONDS = 60;

/** Length of the generated key (letters and digits; the authorizer ignores keys under 20). */
export const TOKEN_LENGTH = 48;

export type ApiTokenAuthProps = Pick<PipelineProps, 'nag' | 'alarms' | 'functionDefaults'>;

export class ApiTokenAuth extends Construct {
  /** The secret whose current and previous versions are the accepted keys. */
  readonly secret: secretsmanager.Secret;
  readonly function: PipelineFunction;
  /** The API's default authorizer. */
  readonly authorizer: HttpLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: ApiTokenAuthProps) {
    super(scope, id);
    markGroupingScope(this);
    const d = props.functionDefaults;
    this.secret = new secretsmanager.Secret(this, 'ApiTokenSecret', {
      description:
        'ls-export API key for "Authorization: Token <key>"; AWSCURRENT and AWSPREVIOUS are accepted (rotate with put-secret-value)',
      generateSecretString: { passwordLength: TOKEN_LENGTH, excludePunctuation: true, includeSpace: false },
      removalPolicy: d.removalPolicy,
    });
    props.nag.add(
      this.secret,
      'AwsSolutions-SMG4',
      'The secret is an API key handed to people and Label Studio clients, not a credential of another AWS service that a rotation Lambda could change on both sides. It is rotated by putting a new secret version (aws secretsmanager put-secret-value): the new key becomes AWSCURRENT and the old one AWSPREVIOUS, which the authorizer keeps accepting for the overlap, so clients move to the new key before the next rotation. A scheduled rotation would replace the key with nobody to hand it to and lock the clients out.',
    );

    this.function = new PipelineFunction(this, 'TokenAuthorizerFunction', {
      logRetention: d.logRetention,
      removalPolicy: d.removalPolicy,
      logLevel: d.logLevel,
      entry: 'functions/handlers/token-authorizer.ts',
      description: 'ls-export: API authorizer for Label Studio "Authorization: Token <key>"',
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: { LS_EXPORT_API_TOKEN_SECRET_ID: this.secret.secretArn },
    });
    this.secret.grantRead(this.function.role);
    this.function.acknowledgeTracing(props.nag);
    props.alarms.lambdaFunction('tokenAuthorizer', this.function.fn);

    this.authorizer = new HttpLambdaAuthorizer('TokenAuthorizer', this.function.fn, {
      authorizerName: 'ls-export-token',
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: Duration.seconds(TOKEN_AUTHORIZER_CACHE_SECONDS),
    });
  }
}
