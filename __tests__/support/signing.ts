import { Storage } from '@google-cloud/storage';
import { generateKeyPairSync } from 'node:crypto';
import { emulatorEndpoint } from './gcs.js';

/** A service account of our own making: a fresh RSA key, so the client signs URLs locally. */
export interface SigningAccount {
  readonly clientEmail: string;
  readonly privateKey: string;
  /** PEM (SPKI), to verify the signatures the client made. */
  readonly publicKey: string;
}

export function newSigningAccount(): SigningAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return {
    clientEmail: 'image-ingest-test@test-project.iam.gserviceaccount.com',
    privateKey,
    publicKey,
  };
}

/**
 * The official client with that account's credentials; against the emulator unless
 * `apiEndpoint` is null (then GCS's own host, for signing only: nothing is sent).
 */
export function signingClient(
  account: SigningAccount,
  apiEndpoint: string | null = emulatorEndpoint(),
): Storage {
  return new Storage({
    projectId: 'test-project',
    credentials: { client_email: account.clientEmail, private_key: account.privateKey },
    ...(apiEndpoint === null ? {} : { apiEndpoint }),
    retryOptions: { autoRetry: false },
  });
}
