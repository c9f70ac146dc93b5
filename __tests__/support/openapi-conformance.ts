import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import Koa, { type Context, type Middleware } from 'koa';
import { buildOpenApiDocument } from '../../src/http/openapi/document.js';

/**
 * Checks every response an app under test sends against the OpenAPI document: the operation
 * exists, the status is declared, and so are the Content-Type, the required headers and (for
 * JSON) the body, with ajv in strict mode. Streamed bodies (files) are checked on headers only.
 */

type Json = Record<string, unknown>;

// Every optional part on: the widest set of statuses, codes and headers the service declares.
const document = buildOpenApiDocument({
  serverUrl: 'http://localhost',
  authRequired: true,
  rateLimited: true,
  localFiles: true,
  staging: true,
  directUploads: true,
}) as Json & { paths: Record<string, Record<string, Json>> };

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
// The document's own keywords around its schemas, and OpenAPI's annotation keyword.
ajv.addVocabulary(['openapi', 'info', 'servers', 'tags', 'paths', 'components', 'example']);
ajv.addSchema(document, 'openapi');

const validators = new Map<string, ValidateFunction>();
function validatorAt(pointer: string): ValidateFunction {
  let validate = validators.get(pointer);
  if (validate === undefined) {
    validate = ajv.getSchema(`openapi#${pointer}`);
    if (validate === undefined) throw new Error(`no schema at ${pointer}`);
    validators.set(pointer, validate);
  }
  return validate;
}

const escapePointer = (segment: string): string =>
  segment.replaceAll('~', '~0').replaceAll('/', '~1');

/** `/v1/images/:id` -> `/v1/images/{id}` */
const openApiPath = (route: string): string => route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function mediaTypeMatches(declared: string, actual: string): boolean {
  if (declared === actual) return true;
  return declared.endsWith('/*') && actual.startsWith(declared.slice(0, -1));
}

function resolve(value: Json): Json {
  const ref = value.$ref;
  if (typeof ref !== 'string') return value;
  let target: unknown = document;
  for (const segment of ref.slice(2).split('/')) {
    target = (target as Json)[segment.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return target as Json;
}

const templates = Object.keys(document.paths).map((path) => ({
  path,
  pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

function documentedPathOf(requestPath: string): string | undefined {
  return templates.find(({ pattern }) => pattern.test(requestPath))?.path;
}

/** What is wrong with this response, by the document; empty when nothing is. */
export function conformanceProblems(ctx: Context): string[] {
  // Answered before any route ran (401, 429, 412 from middleware): found by its path instead.
  const matched = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
  const route = matched ?? documentedPathOf(ctx.path);
  // No operation has this path (an unknown path's 404): nothing to check.
  if (route === undefined) return [];
  // The client went away: nothing was answered (renderErrors only logs it).
  const socket = ctx.res.socket ?? ctx.req.socket;
  if (ctx.res.destroyed || socket?.destroyed === true) return [];
  const path = openApiPath(route);
  const methods = document.paths[path];
  // The router answers HEAD for a GET route unless a HEAD route of its own exists.
  const method =
    ctx.method === 'HEAD' && methods?.head === undefined ? 'get' : ctx.method.toLowerCase();
  const where = `${ctx.method} ${ctx.path} (${path}) -> ${ctx.status}`;
  const operation = methods?.[method];
  if (operation === undefined) {
    // A method the path does not take (405, 501), or a CORS preflight (or the router's own
    // OPTIONS answer) on a path without an OPTIONS operation: not an operation's answer.
    // A method no route takes, answered by middleware (tus's 412 comes before the router's 405).
    if (ctx.status === 405 || ctx.status === 501 || ctx.method === 'OPTIONS') return [];
    if (matched === undefined) return [];
    return [`${where}: operation not in the document`];
  }
  const responses = operation.responses as Record<string, Json>;
  const response = responses[String(ctx.status)];
  if (response === undefined) return [`${where}: status not declared`];

  const problems: string[] = [];
  const headers = (response.headers ?? {}) as Record<string, Json>;
  for (const [name, declared] of Object.entries(headers)) {
    if (resolve(declared).required === true && ctx.response.get(name) === '') {
      problems.push(`${where}: required header ${name} missing`);
    }
  }
  const content = response.content as Record<string, Json> | undefined;
  const bodiless = ctx.method === 'HEAD' || ctx.status === 204 || ctx.status === 304;
  if (bodiless) return problems;
  if (content === undefined) {
    const empty = ctx.body === undefined || ctx.body === null || ctx.body === '';
    if (!empty) problems.push(`${where}: undeclared body`);
    return problems;
  }
  const actualType = ctx.response.type;
  const mediaType = Object.keys(content).find((declared) => mediaTypeMatches(declared, actualType));
  if (mediaType === undefined) {
    problems.push(`${where}: Content-Type ${actualType || '(none)'} not declared`);
    return problems;
  }
  if (mediaType !== 'application/json') return problems;
  let body: unknown = ctx.body;
  if (typeof body === 'string') body = JSON.parse(body);
  else if (Buffer.isBuffer(body) || (typeof body === 'object' && body !== null && 'pipe' in body)) {
    return problems;
  }
  const pointer = [
    '',
    'paths',
    path,
    method,
    'responses',
    String(ctx.status),
    'content',
    mediaType,
    'schema',
  ]
    .map(escapePointer)
    .join('/');
  const validate = validatorAt(pointer);
  if (!validate(body)) {
    problems.push(
      `${where}: body ${JSON.stringify(body).slice(0, 300)}: ${ajv.errorsText(validate.errors)}`,
    );
  }
  return problems;
}

const violations: string[] = [];

/** Outermost on the app: looks at the response once every other middleware is done with it. */
export const checkConformance: Middleware = async (ctx, next) => {
  await next();
  violations.push(...conformanceProblems(ctx));
};

/** What was found since the last call, emptied. */
export function takeViolations(): string[] {
  return violations.splice(0);
}

const checked = new WeakSet<Koa>();

/**
 * Puts the check in front of every Koa app built in this test file, however it is built
 * (createApp in a harness, makeApp, or directly): Koa composes its middleware when a callback
 * is made, which every server and supertest request does.
 */
export function checkEveryApp(): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its app below
  const callback = Koa.prototype.callback;
  if ((callback as { conformance?: boolean }).conformance === true) return;
  const patched = function (this: Koa) {
    if (!checked.has(this)) {
      checked.add(this);
      this.middleware.unshift(checkConformance);
    }
    return callback.call(this);
  };
  Koa.prototype.callback = Object.assign(patched, { conformance: true });
}
