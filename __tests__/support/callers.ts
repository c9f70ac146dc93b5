import { SignJWT } from 'jose';

/**
 * Two API-key callers and an HS256 JWT issuer, for tests about who may do what: `keyedEnv`
 * configures the service to accept them, `jwtFor` signs a token for a subject.
 */

export const alicesKey = 'alice-api-key-0123456789';
export const bobsKey = 'bob-api-key-9876543210';
const jwtSecret = 'a-secret-of-at-least-thirty-two-bytes!!';

export const keyedEnv = {
  API_KEYS: `${alicesKey},${bobsKey}`,
  JWT_SECRET: jwtSecret,
  JWT_ISSUER: 'https://issuer.test',
  JWT_AUDIENCE: 'image-ingest',
  RATE_LIMIT: '0',
};

export async function jwtFor(subject: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(keyedEnv.JWT_ISSUER)
    .setAudience(keyedEnv.JWT_AUDIENCE)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(jwtSecret));
}
