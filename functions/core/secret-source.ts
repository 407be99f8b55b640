/**
 * The secret-store port of the API token check (pipeline/api-tokens.ts): where the valid keys are
 * kept, read per staging label. storage/secrets-manager.ts implements it over AWS Secrets Manager;
 * the tests give a map.
 */

/** Secrets Manager's staging labels of the versions whose keys are accepted. */
export const TOKEN_STAGES = ['AWSCURRENT', 'AWSPREVIOUS'] as const;
export type TokenStage = (typeof TOKEN_STAGES)[number];

/**
 * Where the keys are stored: the secret's string at a staging label, or undefined when no version
 * has that label (a secret never rotated has no `AWSPREVIOUS`). Other failures throw. With
 * `@aws-sdk/client-secrets-manager`: `GetSecretValue({SecretId, VersionStage: stage}).SecretString`,
 * undefined on `ResourceNotFoundException`.
 */
export type SecretSource = (stage: TokenStage) => Promise<string | undefined>;
