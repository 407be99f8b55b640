import 'aws-sdk-client-mock-vitest/extend';

// The SDK resolves an endpoint even for mocked clients; give it a region so no test depends on the host.
process.env.AWS_REGION ??= 'us-east-1';
