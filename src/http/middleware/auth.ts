import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { AuthConfig } from '../../config.js';
import { AppError, isAppError } from '../../errors.js';
import { anonymousCallerId } from '../client-address.js';

/** Who is calling, as later middleware (rate limits, logs) needs to know it. */
export interface Caller {
  /** A stable key that never contains the credential itself. */
  readonly id: string;
  readonly kind: 'api_key' | 'jwt' | 'anonymous';
}

export interface CallerState {
  caller?: Caller;
}

/**
 * The owner kept on an image an authenticated caller uploads (`api_key:key:…`, `jwt:sub:…`),
 * and compared with it when that caller deletes. Undefined for an anonymous caller: an address
 * is shared and changes, so it owns nothing.
 */
export function ownerOf(caller: Caller | undefined): string | undefined {
  if (caller === undefined || caller.kind === 'anonymous') return undefined;
  return `${caller.kind}:${caller.id}`;
}

const realm = 'image-ingest';

/** Signing algorithms accepted from a JWKS; "none" and HMAC are never taken from a key set. */
const asymmetricAlgorithms = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];

function unauthorized(
  error: 'invalid_request' | 'invalid_token' | undefined,
  message?: string,
): AppError {
  const challenge =
    error === undefined ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="${error}"`;
  return new AppError('unauthorized', { message, headers: { 'WWW-Authenticate': challenge } });
}

/**
 * Checks `Authorization: Bearer <credential>`: an API key (compared as SHA-256 digests in
 * constant time, so neither the key nor its length leaks through timing) or a JWT (HS256
 * secret or a JWKS, issuer and audience checked by jose). Sets ctx.state.caller. With no
 * credentials configured every caller is anonymous, identified by address.
 */
export function authenticate(auth: AuthConfig): Middleware<CallerState> {
  let jwksKeys: JWTVerifyGetKey | undefined;
  const jwtOptions: JWTVerifyOptions = {
    ...(auth.jwtIssuer === undefined ? {} : { issuer: auth.jwtIssuer }),
    ...(auth.jwtAudience === undefined ? {} : { audience: auth.jwtAudience }),
    // JWT_MAX_AGE_SECONDS: jose then requires `iat`, refuses one in the future, and refuses a
    // token issued longer ago than this even when its `exp` (or the lack of one) says otherwise.
    ...(auth.jwtMaxAgeSeconds === 0 ? {} : { maxTokenAge: auth.jwtMaxAgeSeconds }),
  };

  /** A token is accepted if the HS256 secret or the key set verifies it (either may be set). */
  async function verifyJwt(token: string): Promise<Caller | undefined> {
    const verifiers: (() => ReturnType<typeof jwtVerify>)[] = [];
    const secret = auth.jwtSecret;
    if (secret !== undefined) {
      verifiers.push(() => jwtVerify(token, secret, { ...jwtOptions, algorithms: ['HS256'] }));
    }
    if (auth.jwtJwksUrl !== undefined) verifiers.push(() => verifyWithJwks(token));
    for (const verify of verifiers) {
      try {
        const { payload } = await verify();
        // jose types `sub` as a string but does not check it: any JSON value arrives.
        return callerOfToken(payload.sub);
      } catch (error) {
        if (isAppError(error)) throw error;
        // Bad signature, expired, wrong issuer or audience, or key set unreachable: not this one.
      }
    }
    return undefined;
  }

  function verifyWithJwks(token: string): ReturnType<typeof jwtVerify> {
    jwksKeys ??= createRemoteJWKSet(new URL(auth.jwtJwksUrl!), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
    });
    return jwtVerify(token, jwksKeys, { ...jwtOptions, algorithms: asymmetricAlgorithms });
  }

  return async (ctx, next) => {
    if (auth.anonymous) {
      ctx.state.caller = {
        id: anonymousCallerId(ctx),
        kind: 'anonymous',
      };
      await next();
      return;
    }
    const header = ctx.get('Authorization');
    if (header === '') throw unauthorized(undefined);
    const match = /^Bearer +([^\s]+) *$/i.exec(header);
    if (match === null) throw unauthorized('invalid_request');
    const credential = match[1]!;

    const caller =
      matchApiKey(credential, auth.apiKeyHashes) ??
      (looksLikeJwt(credential) ? await verifyJwt(credential) : undefined);
    if (caller === undefined) throw unauthorized('invalid_token');
    ctx.state.caller = caller;
    await next();
    return;
  };
}

function matchApiKey(credential: string, hashes: readonly Buffer[]): Caller | undefined {
  if (hashes.length === 0) return undefined;
  const digest = createHash('sha256').update(credential, 'utf8').digest();
  let found: Buffer | undefined;
  // Every configured key is compared, so the time taken does not reveal which one matched.
  for (const hash of hashes) {
    if (timingSafeEqual(digest, hash) && found === undefined) found = hash;
  }
  return found === undefined
    ? undefined
    : { id: `key:${found.toString('hex').slice(0, 16)}`, kind: 'api_key' };
}

function looksLikeJwt(credential: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(credential);
}

/** The longest `sub` taken: UUIDs, Auth0's `provider|id` and e-mail addresses fit well within. */
const maxSubjectLength = 255;

/**
 * The caller a verified token names. Its `sub` must be a string: a number or an object would
 * be turned into text (`42` and `"42"` one caller, every object `[object Object]`), and the
 * subject owns images and counts requests. A token without one cannot be told apart from any
 * other; control characters have no place in an identifier that reaches logs.
 */
function callerOfToken(subject: unknown): Caller {
  if (
    typeof subject !== 'string' ||
    subject.length === 0 ||
    subject.length > maxSubjectLength ||
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/.test(subject)
  ) {
    throw unauthorized(
      'invalid_token',
      `The token's "sub" claim must be a string of 1 to ${maxSubjectLength} characters.`,
    );
  }
  return { id: `sub:${subject}`, kind: 'jwt' };
}
