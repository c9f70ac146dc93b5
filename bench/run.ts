import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import {
  cameraJpeg,
  imageBody,
  jpegOfSize,
  noiseJpeg,
  type CameraPicture,
  readFixture,
  withPhoneMetadata,
  type InputStyle,
  type RequestBody,
} from './bodies.ts';
import {
  cpuSeconds,
  cpuSecondsByThreadKind,
  type ThreadKind,
  freePort,
  removeOnExit,
  anonRssBytes,
  rssBytes,
  startNodeServer,
  track,
  watchRss,
  type ServerProcess,
} from './processes.ts';
import { newestProfileSummary } from './profile-summary.ts';
import { fixed, table } from './table.ts';
import {
  fullRenditionOptions,
  runRenditionsScenario,
  smokeRenditionOptions,
  type RenditionLine,
} from './renditions.ts';
import { runTusScenario, tusRows, tusRowsOf } from './tus.ts';
import { heicRows, runHeicScenario, type HeicRow } from './heic.ts';
import {
  gcsStorage,
  localStorage,
  storedByService,
  verifyStored,
  type BenchStorage,
  type Verification,
} from './storage.ts';

/**
 * npm run bench [-- options]: image-ingest against the buffered baseline and the bare ceiling,
 * each in its own process, one at a time, on the same storage. See docs/performance.md.
 */

const MiB = 1024 * 1024;
const KiB = 1024;

interface Scenario {
  readonly key: string;
  readonly title: string;
  /** How the image is sent: a JSON data URI (the default), a multipart form, or raw. */
  readonly input?: InputStyle;
  /** Size of the JPEG inside the body; 0 means large.jpg as it is (~1 MiB). Unused with `camera`. */
  readonly imageBytes: number;
  /** The JPEG is a camera-sized picture made by sharp (bodies.ts) instead of a padded fixture. */
  readonly camera?: CameraPicture;
  readonly connections: number;
  /**
   * Seconds of load, or a fixed number of requests per connection: huge bodies take seconds
   * each, and a time limit would cut most of them off.
   */
  readonly load: { readonly seconds: number } | { readonly requestsPerConnection: number };
  /** IMAGE_VALIDATION for both servers, whatever --validation says. */
  readonly validation?: 'structure' | 'decode';
  /** A scenario that differs from this one only in its validation: the cost of decoding. */
  readonly sameButStructure?: string;
  /**
   * IMAGE_METADATA for image-ingest (the baseline keeps every byte it is sent). The large
   * scenarios keep: their JPEGs are padded to size with comments, which stripping would drop,
   * leaving 1 MiB objects; they measure streaming big bodies, and p/pk measure stripping.
   */
  readonly metadata?: 'strip' | 'keep';
  /** The JPEG carries a phone's metadata (EXIF with GPS, XMP, IPTC, ICC): bodies.ts. */
  readonly phone?: boolean;
  /** A scenario that differs from this one only in keeping metadata: the cost of stripping. */
  readonly sameButKept?: string;
  /**
   * Environment for both image-ingest and the baseline (IMAGE_VARIANTS, ...), under what
   * `--env` says. With IMAGE_VARIANTS, every 201 must list the variants and every original be
   * stored with them.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** A scenario that differs from this one only in making variants: their cost. */
  readonly sameButVariants?: string;
  /**
   * The image goes through tus in chunks of this size (bench/tus.ts), against one raw POST of
   * it, @tus/server (file-store; gcs-store on GCS) and a bare ceiling, and through tus-js-client
   * (one upload, and parallelUploads: 4); `imageBytes` is the size of a JPEG of noise, and the
   * uploads are `requestsPerConnection` times `connections` (uploads at a time).
   */
  readonly tus?: {
    readonly chunkBytes: number;
    readonly targets?: {
      readonly from: string;
      readonly minTusVsRaw: number;
      readonly minTusVsPeer: number;
      readonly maxRssGrowthMiB: number;
    };
  };
  /**
   * Renditions (bench/renditions.ts): these lines, each against its peer, with their own
   * pictures and counts; the other fields are unused.
   */
  readonly renditions?: readonly RenditionLine[];
  /**
   * A phone's HEIC (bench/heic.ts): `uploads` of the camera file at `connections` at once,
   * against the heif-convert peer, then the decode alone and `memoryConcurrency` at once.
   */
  readonly heic?: {
    readonly fixture: string;
    readonly uploads: number;
    readonly memoryConcurrency: number;
    readonly decodes: number;
    readonly targets?: { readonly from: string; readonly minRpsVsPeer: number };
  };
  /** Informational targets for image-ingest, and where they come from; none in smoke runs. */
  readonly targets?: {
    readonly from: string;
    readonly maxRssGrowthMiB?: number;
    readonly minRpsVsBaseline?: number;
    readonly minRpsVsCeiling?: number;
  };
}

/** The variants of scenarios v and vb, for image-ingest and the baseline alike. */
const benchVariants = 'thumbnail:320x320:cover,small:640,large:1600';
/** A real 12 MP iPhone 13 Pro photo (1.24 MiB, Display P3, GPS): __tests__/fixtures/README.md. */
const iphoneHeic = 'heic/iphone13pro-gps.heic';
/** A 12 MP phone photo: 4000 x 3000 at q88 with some grain, about 3.7 MiB. */
const phonePicture: CameraPicture = { width: 4000, height: 3000, quality: 88, noise: 24 };

function defaultScenarios(smoke: boolean): Scenario[] {
  if (smoke) {
    // Every path, small and short, so that CI notices when the bench or a server breaks. The
    // baseline makes a 12 MP picture's variants in about a second of CPU: v, vn, vb send few.
    return [
      { key: 'a', title: '(a) ~1 MiB JPEG', imageBytes: 0, connections: 16, load: { seconds: 1 } },
      {
        key: 'b',
        metadata: 'keep',
        title: '(b) 6 MiB JPEG (streamed)',
        imageBytes: 6 * MiB,
        connections: 4,
        load: { requestsPerConnection: 2 },
      },
      {
        key: 'c',
        metadata: 'keep',
        title: '(c) one 12 MiB JPEG at a time',
        imageBytes: 12 * MiB,
        connections: 1,
        load: { requestsPerConnection: 2 },
      },
      {
        key: 'd',
        title: '(d) 100 KiB JPEG',
        imageBytes: 100 * KiB,
        connections: 64,
        load: { seconds: 1 },
      },
      {
        key: 'e',
        title: '(e) ~1 MiB JPEG, every pixel decoded',
        imageBytes: 0,
        connections: 16,
        load: { seconds: 1 },
        validation: 'decode',
        sameButStructure: 'a',
      },
      {
        key: 'm',
        title: '(m) ~1 MiB JPEG as a multipart form',
        input: 'multipart',
        imageBytes: 0,
        connections: 16,
        load: { seconds: 1 },
      },
      {
        key: 'r',
        title: '(r) ~1 MiB JPEG as a raw body',
        input: 'raw',
        imageBytes: 0,
        connections: 16,
        load: { seconds: 1 },
      },
      {
        key: 'mb',
        metadata: 'keep',
        title: '(mb) 6 MiB JPEG as a multipart form',
        input: 'multipart',
        imageBytes: 6 * MiB,
        connections: 4,
        load: { requestsPerConnection: 2 },
      },
      {
        key: 'p',
        title: '(p) ~1 MiB phone JPEG, stripped',
        imageBytes: 0,
        phone: true,
        connections: 16,
        load: { seconds: 1 },
      },
      {
        key: 'pk',
        title: '(pk) the same, IMAGE_METADATA=keep',
        imageBytes: 0,
        phone: true,
        metadata: 'keep',
        sameButKept: 'p',
        connections: 16,
        load: { seconds: 1 },
      },
      {
        key: 'v',
        title: '(v) 12 MP phone JPEG, three variants',
        imageBytes: 0,
        camera: phonePicture,
        phone: true,
        env: { IMAGE_VARIANTS: benchVariants, IMAGE_VARIANTS_EAGER: 'true' },
        connections: 4,
        load: { requestsPerConnection: 1 },
      },
      {
        key: 'vn',
        title: '(vn) the same, no variants',
        imageBytes: 0,
        camera: phonePicture,
        phone: true,
        env: { IMAGE_VARIANTS: '' },
        sameButVariants: 'v',
        connections: 4,
        load: { requestsPerConnection: 1 },
      },
      {
        key: 'vb',
        title: '(vb) 12 MP JPEG at q100, three variants',
        imageBytes: 0,
        camera: { ...phonePicture, quality: 100 },
        phone: true,
        env: { IMAGE_VARIANTS: benchVariants, IMAGE_VARIANTS_EAGER: 'true' },
        connections: 2,
        load: { requestsPerConnection: 1 },
      },
      {
        key: 't',
        title: '(t) 8 MiB JPEG through tus in 1 MiB chunks',
        imageBytes: 8 * MiB,
        tus: { chunkBytes: MiB },
        connections: 1,
        load: { requestsPerConnection: 2 },
      },
      {
        key: 'rn',
        title: '(rn) renditions: cold and warm, against sharp once per request and govips',
        imageBytes: 0,
        renditions: ['cold', 'warm'],
        connections: 4,
        load: { requestsPerConnection: 1 },
      },
      {
        key: 'h',
        title: '(h) a 12 MP iPhone HEIC with its display rendition',
        imageBytes: 0,
        heic: { fixture: iphoneHeic, uploads: 2, memoryConcurrency: 2, decodes: 1 },
        connections: 2,
        load: { requestsPerConnection: 1 },
      },
    ];
  }
  return [
    {
      key: 'a',
      title: '(a) ~1 MiB JPEG (large.jpg)',
      imageBytes: 0,
      connections: 16,
      load: { seconds: 15 },
      targets: { from: 'issue 3', minRpsVsBaseline: 4, minRpsVsCeiling: 0.4 },
    },
    {
      key: 'b',
      metadata: 'keep',
      title: '(b) 25 MiB JPEG',
      imageBytes: 25 * MiB,
      connections: 16,
      load: { requestsPerConnection: 3 },
      targets: { from: 'issue 3', maxRssGrowthMiB: 160 },
    },
    {
      key: 'c',
      metadata: 'keep',
      title: '(c) one 100 MiB JPEG at a time',
      imageBytes: 100 * MiB,
      connections: 1,
      load: { requestsPerConnection: 4 },
      targets: { from: 'issue 3', maxRssGrowthMiB: 64 },
    },
    {
      key: 'd',
      title: '(d) ~100 KiB JPEG',
      imageBytes: 100 * KiB,
      connections: 64,
      load: { seconds: 15 },
      targets: { from: 'issue 3', minRpsVsBaseline: 1 },
    },
    {
      key: 'e',
      title: '(e) ~1 MiB JPEG (large.jpg), every pixel decoded by sharp on both servers',
      imageBytes: 0,
      connections: 16,
      load: { seconds: 15 },
      validation: 'decode',
      sameButStructure: 'a',
      targets: { from: 'issue 3', minRpsVsBaseline: 1 },
    },
    {
      key: 'm',
      title: '(m) ~1 MiB JPEG (large.jpg) as a multipart form (FormData, one part "file")',
      input: 'multipart',
      imageBytes: 0,
      connections: 16,
      load: { seconds: 15 },
      targets: { from: 'multipart and raw', minRpsVsBaseline: 1.5 },
    },
    {
      key: 'r',
      title: '(r) ~1 MiB JPEG (large.jpg) as a raw body (Content-Type: image/jpeg)',
      input: 'raw',
      imageBytes: 0,
      connections: 16,
      load: { seconds: 15 },
      targets: { from: 'multipart and raw', minRpsVsBaseline: 1.5 },
    },
    {
      key: 'mb',
      metadata: 'keep',
      title: '(mb) 25 MiB JPEG as a multipart form',
      input: 'multipart',
      imageBytes: 25 * MiB,
      connections: 16,
      load: { requestsPerConnection: 3 },
      targets: { from: 'multipart and raw', maxRssGrowthMiB: 160 },
    },
    {
      key: 'p',
      title: "(p) ~1 MiB phone JPEG (large.jpg with phone-o6.jpg's EXIF, XMP, IPTC, ICC), stripped",
      imageBytes: 0,
      phone: true,
      connections: 16,
      load: { seconds: 15 },
    },
    {
      key: 'pk',
      title: '(pk) the same phone JPEG, IMAGE_METADATA=keep',
      imageBytes: 0,
      phone: true,
      metadata: 'keep',
      sameButKept: 'p',
      connections: 16,
      load: { seconds: 15 },
    },
    {
      key: 'v',
      title: `(v) 12 MP phone JPEG (4000x3000, q${phonePicture.quality}), variants ${benchVariants}`,
      imageBytes: 0,
      camera: phonePicture,
      phone: true,
      env: { IMAGE_VARIANTS: benchVariants, IMAGE_VARIANTS_EAGER: 'true' },
      connections: 16,
      load: { requestsPerConnection: 2 },
      targets: { from: 'variants', minRpsVsBaseline: 1.5 },
    },
    {
      key: 'vn',
      title: '(vn) the same 12 MP phone JPEG, no variants (IMAGE_VARIANTS empty)',
      imageBytes: 0,
      camera: phonePicture,
      phone: true,
      env: { IMAGE_VARIANTS: '' },
      sameButVariants: 'v',
      connections: 16,
      load: { requestsPerConnection: 2 },
    },
    {
      key: 'vb',
      title: `(vb) ~25 MiB JPEG (6000x4000, q100, real pixels), variants ${benchVariants}`,
      imageBytes: 0,
      camera: { width: 6000, height: 4000, quality: 100, noise: 40 },
      phone: true,
      env: { IMAGE_VARIANTS: benchVariants, IMAGE_VARIANTS_EAGER: 'true' },
      connections: 16,
      load: { requestsPerConnection: 1 },
    },
    {
      key: 't',
      title: '(t) 100 MiB JPEG through tus in 5 MiB chunks, against one raw POST and @tus/server',
      imageBytes: 100 * MiB,
      tus: {
        chunkBytes: 5 * MiB,
        targets: { from: 'issue 18', minTusVsRaw: 0.9, minTusVsPeer: 1, maxRssGrowthMiB: 64 },
      },
      connections: 1,
      load: { requestsPerConnection: 5 },
    },
    {
      key: 'rn',
      title:
        '(rn) renditions: cold and warm against sharp once per request and govips, upload, memory, GCS',
      imageBytes: 0,
      renditions: ['cold', 'warm', 'upload', 'memory', 'gcs'],
      connections: 4,
      load: { requestsPerConnection: 1 },
    },
    {
      key: 'h',
      title: '(h) a 12 MP iPhone HEIC stored with its display rendition, 4 at a time',
      imageBytes: 0,
      heic: {
        fixture: iphoneHeic,
        uploads: 16,
        memoryConcurrency: 16,
        decodes: 5,
        targets: { from: 'issue 16', minRpsVsPeer: 1 },
      },
      connections: 4,
      load: { requestsPerConnection: 4 },
    },
  ];
}

/** "25M", "100K", "1048576" */
function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(text.trim());
  if (match === null) throw new Error(`not a size: ${text}`);
  const unit = { '': 1, K: KiB, M: MiB, G: 1024 * MiB }[match[2]!.toUpperCase()]!;
  return Math.round(Number(match[1]) * unit);
}

/** `--size b=25M --connections a=32`: per-scenario overrides, KEY=VALUE. */
function overrides(
  entries: readonly string[] | undefined,
  parse: (text: string) => number,
): Map<string, number> {
  return new Map(
    (entries ?? []).map((entry) => {
      const [key, value] = entry.split('=');
      if (key === undefined || value === undefined)
        throw new Error(`expected KEY=VALUE, got ${entry}`);
      return [key.trim(), parse(value)];
    }),
  );
}

type ServerKind = 'service' | 'baseline' | 'bare';

const root = path.resolve(import.meta.dirname, '..');
const serverScripts: Record<ServerKind, string> = {
  service: path.join(root, 'dist/index.js'),
  baseline: path.join(root, 'bench/baseline-server.ts'),
  bare: path.join(root, 'bench/bare-server.ts'),
};
const serverLabels: Record<ServerKind, string> = {
  service: 'image-ingest',
  baseline: 'baseline (buffered)',
  bare: 'ceiling (bare node:http)',
};

interface RunResult {
  readonly server: ServerKind;
  readonly storage: 'local' | 'gcs' | 'none';
  readonly rps: number;
  readonly mbps: number;
  readonly p50: number;
  readonly p99: number;
  readonly idleRssMiB: number;
  readonly rssGrowthMiB: number;
  /** The same for anonymous memory alone (no mapped files: sharp maps the file it decodes). */
  readonly anonRssGrowthMiB: number;
  /** CPU time of the whole server process per answered request, in ms (all threads). */
  readonly cpuMsPerRequest: number;
  /** The same for the main (event-loop) thread alone, which one core bounds. */
  readonly mainThreadCpuMsPerRequest: number;
  /** CPU ms per answered request of each kind of thread of the server (threads that ran). */
  readonly threadCpuMsPerRequest: Partial<Record<ThreadKind, number>>;
  /** CPU ms per answered request of the load generator (this process). */
  readonly clientCpuMsPerRequest: number;
  readonly ok: number;
  readonly non2xx: number;
  /** The non-2xx answers of the load by status code, e.g. `{ "415": 1200 }`. */
  readonly non2xxByStatus: Readonly<Record<string, number>>;
  /** The first non-2xx answer seen, in the warm-up or under load: what the server said. */
  readonly firstRefusal?: Refusal | undefined;
  readonly errors: number;
  /** 2xx answers that did not list every expected variant (scenarios with IMAGE_VARIANTS). */
  readonly withoutVariants: number;
  readonly verification?: Verification | undefined;
  readonly problems: readonly string[];
}

interface Refusal {
  readonly during: 'warm-up' | 'load';
  readonly status: number;
  /** The start of the response body. */
  readonly body: string;
}

/**
 * The scenarios `--smoke` (CI) runs when none are named. v, vn and vb are left out until
 * image-ingest makes variants: until then it answers their uploads 201 without them, and the
 * bench, rightly, exits non-zero. Run them with `--smoke --scenarios v,vn,vb`.
 */
const smokeDefaultScenarios = 'a,b,c,d,e,m,r,mb,p,pk,v,vn,vb,t,rn';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    scenarios: { type: 'string' },
    servers: { type: 'string', default: 'service,baseline,bare' },
    storage: { type: 'string' },
    duration: { type: 'string' },
    requests: { type: 'string' },
    size: { type: 'string', multiple: true },
    connections: { type: 'string', multiple: true },
    'node-arg': { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
    validation: { type: 'string' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(`npm run bench [-- options]
  --smoke                 every scenario for ~1 s with small images, no targets (CI)
  --scenarios a,b,...     which scenarios to run; default: all (a,b,c,d,e,m,r,mb,p,pk,v,vn,vb,t,rn,h), and
                          ${smokeDefaultScenarios} with --smoke
  --servers service,baseline,bare
                          (in t: image-ingest's tus, raw and tus-js-client rows, @tus/server
                          with file-store and gcs-store, the tus ceiling;
                          in h: image-ingest with each HEIC decoder, the heif-convert peer)
  --storage local,gcs     default: local, plus gcs when .tools/bin/fake-gcs-server exists
  --duration SECONDS      load duration of the time-based scenarios (a, d, e, m, r)
  --requests N            requests per connection of the count-based scenarios (b, c, mb)
  --size KEY=SIZE         image size of a scenario, e.g. --size b=25M --size d=100K (not v, vn,
                          vb: their pictures are made to a camera's size)
  --connections KEY=N     concurrency of a scenario, e.g. --connections a=32
  --node-arg=ARG          extra Node option for every server, e.g. --node-arg=--max-semi-space-size=4
  --env KEY=VALUE         extra environment for image-ingest and the baseline, e.g.
                          --env STREAMING_THRESHOLD_BYTES=1048576
  --validation MODE       IMAGE_VALIDATION for both image-ingest and the baseline
  --profile               run image-ingest with --cpu-prof and print where its CPU time goes
`);
  process.exit(0);
}

const emulatorBinary = path.join(root, '.tools/bin/fake-gcs-server');
const emulatorAvailable = existsSync(emulatorBinary);
const storages = (args.storage ?? (emulatorAvailable ? 'local,gcs' : 'local'))
  .split(',')
  .map((s) => s.trim()) as ('local' | 'gcs')[];
const servers = args.servers.split(',').map((s) => s.trim()) as ServerKind[];
for (const server of servers) {
  if (!(server in serverScripts)) {
    throw new Error(`--servers: no server "${server}" (${Object.keys(serverScripts).join(', ')})`);
  }
}
const wanted = new Set(
  (
    args.scenarios ??
    (args.smoke
      ? smokeDefaultScenarios
      : defaultScenarios(false)
          .map((s) => s.key)
          .join(','))
  )
    .split(',')
    .map((s) => s.trim()),
);
for (const key of wanted) {
  if (!defaultScenarios(args.smoke).some((scenario) => scenario.key === key)) {
    throw new Error(`--scenarios: no scenario "${key}"`);
  }
}
const extraEnv = Object.fromEntries(
  (args.env ?? []).map((entry) => [
    entry.slice(0, entry.indexOf('=')),
    entry.slice(entry.indexOf('=') + 1),
  ]),
);
const sizes = overrides(args.size, parseBytes);
const concurrency = overrides(args.connections, Number);
const chosen = defaultScenarios(args.smoke)
  .filter((scenario) => wanted.has(scenario.key))
  .map((scenario): Scenario => ({
    ...scenario,
    imageBytes: sizes.get(scenario.key) ?? scenario.imageBytes,
    connections: concurrency.get(scenario.key) ?? scenario.connections,
    load:
      'seconds' in scenario.load
        ? { seconds: args.duration === undefined ? scenario.load.seconds : Number(args.duration) }
        : {
            requestsPerConnection:
              args.requests === undefined
                ? scenario.load.requestsPerConnection
                : Number(args.requests),
          },
  }));

// Temp dirs carry the runner's pid, so that one left by a run killed with SIGKILL (nothing
// can clean up then) is removed by the next run once that pid is gone.
for (const entry of readdirSync(os.tmpdir())) {
  const match = /^image-ingest-bench-(\d+)-/.exec(entry);
  if (match !== null && !existsSync(`/proc/${match[1]}`)) {
    rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
  }
}
const tempRoot = mkdtempSync(path.join(os.tmpdir(), `image-ingest-bench-${process.pid}-`));
removeOnExit(tempRoot);
const profileDir = path.join(root, 'bench/results/profiles');
if (args.profile) mkdirSync(profileDir, { recursive: true });

let emulatorEndpoint: string | undefined;
let stopEmulator = async (): Promise<void> => {};
if (storages.includes('gcs')) {
  const { startEmulator } = await import('../__tests__/support/emulator.ts');
  const emulator = await startEmulator();
  track(emulator.process);
  emulatorEndpoint = emulator.endpoint;
  stopEmulator = () => emulator.stop();
}

/** Small bodies of each input style, to warm a server up on the path the scenario measures. */
const warmUpBodies: Record<InputStyle, RequestBody> = {
  json: imageBody('json', readFixture('photo.jpg')),
  multipart: imageBody('multipart', readFixture('photo.jpg')),
  raw: imageBody('raw', readFixture('photo.jpg')),
};
const refusalBodyChars = 300;

interface Load {
  readonly result: autocannon.Result;
  /** From the start to the last response: autocannon itself only stops on a 1 s tick. */
  readonly seconds: number;
  readonly firstRefusal: Refusal | undefined;
  /** 2xx answers without the variants the scenario configures. */
  readonly withoutVariants: number;
}

/**
 * What is wrong with a 201's body when it should list `variants` (`{name: {url, width, height,
 * bytes, contentType}}`), or undefined when it lists them all.
 */
function missingVariants(responseBody: string, names: readonly string[]): string | undefined {
  let variants: unknown;
  try {
    ({ variants } = JSON.parse(responseBody) as { variants?: unknown });
  } catch {
    return 'the body is not JSON';
  }
  if (typeof variants !== 'object' || variants === null) return 'no "variants" in the answer';
  for (const name of names) {
    const variant = (variants as Record<string, unknown>)[name] as
      Record<string, unknown> | undefined;
    const complete =
      variant !== undefined &&
      typeof variant.url === 'string' &&
      typeof variant.contentType === 'string' &&
      ['width', 'height', 'bytes'].every((key) => typeof variant[key] === 'number');
    if (!complete) return `variant "${name}" missing or incomplete in the answer`;
  }
  return undefined;
}

async function load(
  port: number,
  body: RequestBody,
  { connections, load: how }: Pick<Scenario, 'connections' | 'load'>,
  variantNames: readonly string[],
): Promise<Load> {
  const started = performance.now();
  let lastResponse = started;
  let firstRefusal: Refusal | undefined;
  let withoutVariants = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}/v1/images`,
        method: 'POST',
        headers: { 'content-type': body.contentType },
        body: body.payload,
        // autocannon reads every response body anyway; this only keeps the first refusal's.
        requests: [
          {
            onResponse: (status: number, responseBody: string) => {
              if (status >= 300 && firstRefusal === undefined) {
                firstRefusal = {
                  during: 'load',
                  status,
                  body: responseBody.slice(0, refusalBodyChars),
                };
              }
              if (status < 300 && variantNames.length > 0) {
                const missing = missingVariants(responseBody, variantNames);
                if (missing !== undefined) {
                  withoutVariants += 1;
                  firstRefusal ??= {
                    during: 'load',
                    status,
                    body: `${missing}: ${responseBody.slice(0, refusalBodyChars)}`,
                  };
                }
              }
            },
          },
        ],
        connections,
        ...('seconds' in how
          ? { duration: how.seconds }
          : { amount: how.requestsPerConnection * connections }),
        // A 100 MiB upload to the buffered baseline can take several seconds.
        timeout: 300,
      },
      (error: unknown, result) => {
        if (error === null || error === undefined) resolve(result);
        else
          reject(error instanceof Error ? error : new Error('autocannon failed', { cause: error }));
      },
    );
    instance.on('response', () => {
      lastResponse = performance.now();
    });
  });
  return { result, seconds: (lastResponse - started) / 1000, firstRefusal, withoutVariants };
}

/**
 * A few small uploads in the scenario's input style (JIT, first connections, first store
 * writes) before measuring. A refusal does not stop the run: the load that follows counts the
 * refusals, and the report says what the server answered instead of a rate.
 */
async function warmUp(
  port: number,
  style: InputStyle,
  variantNames: readonly string[],
): Promise<Refusal | undefined> {
  const body = warmUpBodies[style];
  let refusal: Refusal | undefined;
  for (let round = 0; round < 10; round++) {
    await Promise.all(
      [0, 1].map(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/v1/images`, {
          method: 'POST',
          headers: { 'content-type': body.contentType },
          body: body.payload,
        });
        const text = await response.text();
        if (response.status >= 300) {
          refusal ??= {
            during: 'warm-up',
            status: response.status,
            body: text.slice(0, refusalBodyChars),
          };
        } else if (variantNames.length > 0) {
          const missing = missingVariants(text, variantNames);
          if (missing !== undefined) {
            refusal ??= {
              during: 'warm-up',
              status: response.status,
              body: `${missing}: ${text.slice(0, refusalBodyChars)}`,
            };
          }
        }
      }),
    );
  }
  return refusal;
}

/** CPU ms per request of each kind of thread that ran during the load. */
function perRequest(
  before: Record<ThreadKind, number>,
  after: Record<ThreadKind, number>,
  requests: number,
): Partial<Record<ThreadKind, number>> {
  const result: Partial<Record<ThreadKind, number>> = {};
  for (const kind of Object.keys(after) as ThreadKind[]) {
    const ms = ((after[kind] - before[kind]) * 1000) / requests;
    if (ms > 0) result[kind] = ms;
  }
  return result;
}

async function runOne(
  scenario: Scenario,
  server: ServerKind,
  storageDriver: 'local' | 'gcs' | 'none',
  body: RequestBody,
): Promise<RunResult> {
  const problems: string[] = [];
  const label = `${scenario.key}-${server}`;
  let storage: BenchStorage | undefined;
  if (storageDriver === 'local') storage = await localStorage(tempRoot, label);
  if (storageDriver === 'gcs') storage = await gcsStorage(emulatorEndpoint!, label);

  const port = await freePort();
  const maxImageBytes = Math.max(10 * MiB, body.image.length);
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    MAX_IMAGE_BYTES: String(maxImageBytes),
    LOG_LEVEL: 'warn',
    // The load generator is one address at high concurrency: throttling it is not measured.
    RATE_LIMIT: '0',
    MAX_CONCURRENT_UPLOADS: '1000',
    IMAGE_VALIDATION: scenario.validation ?? args.validation ?? 'structure',
    ...(scenario.metadata === undefined ? {} : { IMAGE_METADATA: scenario.metadata }),
    ...scenario.env,
    ...(storage?.env ?? {}),
    ...extraEnv,
  };
  // The ceiling stores nothing and makes no variants: it answers 201 with no body.
  const variants = server === 'bare' ? undefined : await expectedVariants(env);
  const variantNames = variants?.names ?? [];
  const profiling = args.profile && server === 'service';
  let process_: ServerProcess | undefined;
  try {
    process_ = await startNodeServer({
      name: serverLabels[server],
      script: serverScripts[server],
      port,
      env,
      nodeArgs: [
        ...(args['node-arg'] ?? []),
        ...(profiling ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      ],
    });

    // Warm up (JIT, connection handling, first store writes) with small requests, so that the
    // idle RSS below is that of a server that has already served.
    const warmUpRefusal = await warmUp(port, body.style, variantNames);
    const before = new Set(storage === undefined ? [] : await storage.listNames());
    await new Promise((resolve) => setTimeout(resolve, 200));

    const idle = rssBytes(process_.pid);
    const idleAnon = anonRssBytes(process_.pid);
    const watch = watchRss(process_.pid);
    const cpuBefore = cpuSeconds(process_.pid);
    const threadsBefore = cpuSecondsByThreadKind(process_.pid);
    const clientBefore = process.cpuUsage();
    const { result, seconds, firstRefusal, withoutVariants } = await load(
      port,
      body,
      scenario,
      variantNames,
    );
    const client = process.cpuUsage(clientBefore);
    const cpu = cpuSeconds(process_.pid) - cpuBefore;
    const threadsAfter = cpuSecondsByThreadKind(process_.pid);
    const rss = watch.stop();
    const answered = Math.max(1, result['2xx'] + result.non2xx);

    let verification: Verification | undefined;
    if (storage !== undefined) {
      // image-ingest stores the image less its metadata unless told to keep it.
      const stored =
        server === 'service' && scenario.metadata !== 'keep'
          ? await storedByService(body.image)
          : body.image;
      verification = await verifyStored(storage, before, {
        bytes: stored.length,
        sha256: createHash('sha256').update(stored).digest('hex'),
        ...(variants === undefined ? {} : { variants }),
      });
      if (verification.leftovers.length > 0) {
        problems.push(
          `${verification.leftovers.length} temp files left: ${verification.leftovers.slice(0, 3).join('; ')}`,
        );
      }
      if (verification.wrong.length > 0) {
        problems.push(
          `${verification.wrong.length} wrong objects: ${verification.wrong.slice(0, 3).join('; ')}`,
        );
      }
      if (verification.objects < result['2xx']) {
        problems.push(
          `${result['2xx']} uploads answered 201 but only ${verification.objects} objects stored`,
        );
      }
    }
    const non2xxByStatus = Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {})
        .filter(([status]) => Number(status) >= 300)
        .map(([status, { count }]) => [status, count ?? 0]),
    );
    const refusal = firstRefusal ?? warmUpRefusal;
    if (warmUpRefusal !== undefined) {
      problems.push(
        `the warm-up (${body.style}, photo.jpg) was answered ${warmUpRefusal.status}` +
          (warmUpRefusal.status < 300 ? ' without the variants' : ''),
      );
    }
    if (withoutVariants > 0) {
      problems.push(
        `${withoutVariants} 2xx answers without the variants ${variantNames.join(', ')}`,
      );
    }
    if (result.non2xx > 0) {
      problems.push(
        `${result.non2xx} non-2xx responses (` +
          Object.entries(non2xxByStatus)
            .map(([status, count]) => `${status} x${count}`)
            .join(', ') +
          ')',
      );
    }
    if (refusal !== undefined) {
      problems.push(`first refusal (${refusal.during}): ${refusal.status} ${refusal.body}`);
    }
    const stderr = process_.stderr().trim();
    if (refusal !== undefined && refusal.status >= 500 && stderr !== '') {
      problems.push(`its stderr ends: ${stderr.split('\n').at(-1)!.slice(0, refusalBodyChars)}`);
    }
    if (result.errors > 0)
      problems.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
    if (result['2xx'] === 0) problems.push('no successful request');

    return {
      server,
      storage: storageDriver,
      rps: result['2xx'] / seconds,
      mbps: ((result['2xx'] + result.non2xx) * body.payload.length) / MiB / seconds,
      p50: result.latency.p50,
      p99: result.latency.p99,
      idleRssMiB: idle / MiB,
      rssGrowthMiB: (rss.peakBytes - idle) / MiB,
      anonRssGrowthMiB: (rss.peakAnonBytes - idleAnon) / MiB,
      cpuMsPerRequest: (cpu * 1000) / answered,
      mainThreadCpuMsPerRequest: ((threadsAfter.main - threadsBefore.main) * 1000) / answered,
      threadCpuMsPerRequest: perRequest(threadsBefore, threadsAfter, answered),
      clientCpuMsPerRequest: (client.user + client.system) / 1000 / answered,
      ok: result['2xx'],
      non2xx: result.non2xx,
      non2xxByStatus,
      firstRefusal: refusal,
      errors: result.errors,
      withoutVariants,
      verification,
      problems,
    };
  } catch (error) {
    const stderr = process_?.stderr() ?? '';
    throw new Error(`${serverLabels[server]} in ${label}: ${String(error)}\n${stderr}`, {
      cause: error,
    });
  } finally {
    await process_?.stop();
    await storage?.dispose();
    if (profiling) process.stdout.write(newestProfileSummary(profileDir, serverLabels.service));
  }
}

/** The parts of the floor that are measured apart from the servers (see bench/floor.ts). */
interface FloorParts {
  readonly sha256Ms: number;
  readonly storeMs: number;
}

/**
 * What hashing and storing one image of the scenario costs, measured in a process of its own
 * (bench/floor.ts) on the same storage driver, after the servers and with none running.
 */
async function measureFloor(
  scenario: Scenario,
  storageDriver: 'local' | 'gcs',
  body: RequestBody,
): Promise<FloorParts> {
  const label = `${scenario.key}-floor`;
  const storage =
    storageDriver === 'local'
      ? await localStorage(tempRoot, label)
      : await gcsStorage(emulatorEndpoint!, label);
  try {
    const child = spawn(
      process.execPath,
      [
        '--import',
        path.join(root, 'bench/exit-with-parent.ts'),
        path.join(root, 'bench/floor.ts'),
        '--image-bytes',
        // Hashing and storing depend on the size alone: a padded fixture of the picture's size.
        String(scenario.camera === undefined ? scenario.imageBytes : body.image.length),
        '--connections',
        String(scenario.connections),
        '--seconds',
        args.smoke ? '0.5' : '2',
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          MAX_IMAGE_BYTES: String(Math.max(10 * MiB, body.image.length)),
          LOG_LEVEL: 'warn',
          ...storage.env,
          ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`bench/floor.ts exited with ${code}:\n${stderr}`);
    return JSON.parse(stdout) as FloorParts;
  } finally {
    await storage.dispose();
  }
}

const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}x`;

/**
 * A run whose rate, latency, memory and CPU figures mean something: every request it was sent
 * was accepted. A server that refuses (a 415 for an input style it does not take yet) answers
 * fast and stores nothing, and its req/s would compare as if it did the work.
 */
const measured = (r: RunResult | undefined): RunResult | undefined =>
  r !== undefined &&
  r.ok > 0 &&
  r.non2xx === 0 &&
  r.withoutVariants === 0 &&
  r.firstRefusal === undefined
    ? r
    : undefined;

const styleNames: Record<InputStyle, string> = {
  json: 'JSON',
  multipart: 'multipart/form-data',
  raw: 'raw image/jpeg',
};

function report(
  scenario: Scenario,
  storageDriver: 'local' | 'gcs',
  body: RequestBody,
  results: RunResult[],
  /** The results of `scenario.sameButStructure` on the same storage, when it ran. */
  structureResults: readonly RunResult[] | undefined,
  floor: FloorParts | undefined,
): string {
  const rows = [
    [
      'server',
      'req/s',
      'MB/s',
      'p50 ms',
      'p99 ms',
      'idle RSS MiB',
      'peak RSS growth MiB',
      'anon growth MiB',
      'CPU ms/req',
      'main ms/req',
      '2xx',
      'non-2xx',
      'stored ok',
    ],
    ...results.map((r) => [
      serverLabels[r.server],
      ...(measured(r) === undefined
        ? [
            r.withoutVariants > 0
              ? 'no variants'
              : r.non2xx > 0 || r.firstRefusal !== undefined
                ? 'refused'
                : '-',
            ...Array<string>(8).fill('-'),
          ]
        : [
            fixed(r.rps),
            fixed(r.mbps),
            fixed(r.p50, 0),
            fixed(r.p99, 0),
            fixed(r.idleRssMiB),
            fixed(r.rssGrowthMiB),
            fixed(r.anonRssGrowthMiB),
            fixed(r.cpuMsPerRequest, 2),
            fixed(r.mainThreadCpuMsPerRequest, 2),
          ]),
      String(r.ok),
      String(r.non2xx + r.errors),
      r.verification === undefined
        ? '-'
        : `${r.verification.objects - r.verification.wrong.length}/${r.verification.objects}` +
          (scenarioVariants(scenario) ? ` +${r.verification.variantObjects} variants` : ''),
    ]),
  ];
  // Only runs in which every request was accepted are compared.
  const find = (kind: ServerKind): RunResult | undefined =>
    measured(results.find((r) => r.server === kind));
  const service = find('service');
  const baseline = find('baseline');
  const bare = find('bare');
  const lines = [
    `\n## ${scenario.title}; storage: ${storageDriver}; body ${fixed(body.payload.length / MiB, 2)} MiB of ${styleNames[body.style]} ` +
      `(image ${fixed(body.image.length / MiB, 2)} MiB); ` +
      `${scenario.connections} concurrent, ` +
      ('seconds' in scenario.load
        ? `${scenario.load.seconds} s`
        : `${scenario.load.requestsPerConnection * scenario.connections} requests`) +
      (scenario.validation === undefined && args.validation === undefined
        ? ''
        : `; IMAGE_VALIDATION=${scenario.validation ?? args.validation}`) +
      Object.entries(scenario.env ?? {})
        .map(([key, value]) => `; ${key}=${value === '' ? '(empty)' : value}`)
        .join(''),
    table(rows),
    `image-ingest / baseline: req/s ${ratio(service?.rps, baseline?.rps)}, ` +
      `RSS growth ${ratio(service?.rssGrowthMiB, baseline?.rssGrowthMiB)}; ` +
      `image-ingest / ceiling: req/s ${ratio(service?.rps, bare?.rps)}; ` +
      `baseline / ceiling: req/s ${ratio(baseline?.rps, bare?.rps)}`,
  ];
  lines.push(
    'CPU ms per request by thread: ' +
      results
        .map(
          (r) =>
            `${serverLabels[r.server]}: ` +
            (measured(r) === undefined
              ? 'not measured (requests refused)'
              : Object.entries(r.threadCpuMsPerRequest)
                  .map(([kind, ms]) => `${kind} ${fixed(ms, 2)}`)
                  .join(', ')),
        )
        .join('; ') +
      `; load generator (autocannon, in the bench process): ${fixed(
        Math.max(...results.map((r) => r.clientCpuMsPerRequest)),
        2,
      )} at most`,
  );
  if (floor !== undefined) lines.push(floorLine(results, floor));
  const targets = scenario.targets;
  const refused = results.find((r) => r.server === 'service' && measured(r) === undefined);
  if (targets !== undefined && refused !== undefined) {
    lines.push(
      `targets (${targets.from}, image-ingest): not measured: ${refused.non2xx} non-2xx of ` +
        `${refused.ok + refused.non2xx} answered, ${refused.errors} connection errors` +
        (refused.withoutVariants > 0 ? `, ${refused.withoutVariants} 201s without variants` : '') +
        (refused.firstRefusal === undefined
          ? ''
          : `; first refusal ${refused.firstRefusal.status}`),
    );
  }
  if (targets !== undefined && service !== undefined) {
    const checks: string[] = [];
    if (targets.maxRssGrowthMiB !== undefined) {
      checks.push(
        `RSS growth ${fixed(service.rssGrowthMiB)} < ${targets.maxRssGrowthMiB} MiB: ${service.rssGrowthMiB < targets.maxRssGrowthMiB ? 'met' : 'NOT met'}`,
      );
    }
    if (targets.minRpsVsBaseline !== undefined && baseline !== undefined) {
      const r = service.rps / baseline.rps;
      checks.push(
        `req/s >= ${targets.minRpsVsBaseline}x baseline: ${r >= targets.minRpsVsBaseline ? 'met' : 'NOT met'}`,
      );
    }
    if (targets.minRpsVsCeiling !== undefined && bare !== undefined) {
      const r = service.rps / bare.rps;
      checks.push(
        `req/s >= ${targets.minRpsVsCeiling * 100}% of ceiling: ${r >= targets.minRpsVsCeiling ? 'met' : 'NOT met'}`,
      );
    }
    lines.push(`targets (${targets.from}, image-ingest): ${checks.join('; ')}`);
  }
  if (structureResults !== undefined) lines.push(decodingShare(results, structureResults));
  for (const r of results) {
    for (const problem of r.problems) lines.push(`PROBLEM ${serverLabels[r.server]}: ${problem}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * CPU per request against the least any design must spend on it: receiving the body (the
 * ceiling's CPU per request in this scenario: read and drop, parse the request, answer), one
 * sha256 of the image and one store write of it (both measured by bench/floor.ts).
 */
function floorLine(results: readonly RunResult[], parts: FloorParts): string {
  const bare = measured(results.find((r) => r.server === 'bare'));
  const sum = parts.sha256Ms + parts.storeMs + (bare?.cpuMsPerRequest ?? 0);
  const what =
    bare === undefined
      ? `sha256 ${fixed(parts.sha256Ms, 2)} + store put ${fixed(parts.storeMs, 2)} = ${fixed(sum, 2)}, ` +
        'without receiving (the ceiling did not run)'
      : `receive (ceiling) ${fixed(bare.cpuMsPerRequest, 2)} + sha256 ${fixed(parts.sha256Ms, 2)} + ` +
        `store put ${fixed(parts.storeMs, 2)} = ${fixed(sum, 2)}`;
  const servers = results
    .filter((r) => r.server !== 'bare')
    .map((r) =>
      measured(r) === undefined
        ? `${serverLabels[r.server]} not measured`
        : `${serverLabels[r.server]} ${fixed(r.cpuMsPerRequest, 2)} (${ratio(r.cpuMsPerRequest, sum)})`,
    );
  return `CPU ms per request against the floor (${what}): ${servers.join('; ') || '-'}`;
}

/**
 * What decoding every pixel costs each server, from two runs that differ only in validation:
 * the extra CPU per request, and its share of the request's CPU with decoding.
 */
function decodingShare(decoded: readonly RunResult[], structure: readonly RunResult[]): string {
  const parts: string[] = [];
  for (const withDecode of decoded) {
    const without = measured(structure.find((r) => r.server === withDecode.server));
    if (measured(withDecode) === undefined || without === undefined) continue;
    if (withDecode.server === 'bare') continue;
    const extra = withDecode.cpuMsPerRequest - without.cpuMsPerRequest;
    parts.push(
      `${serverLabels[withDecode.server]} ${fixed(extra, 2)} ms of ${fixed(withDecode.cpuMsPerRequest, 2)} ` +
        `(${fixed((100 * extra) / withDecode.cpuMsPerRequest, 0)}%)`,
    );
  }
  return `decoding, CPU per request (this run minus the structure-only run): ${parts.join('; ')}`;
}

/** image-ingest with IMAGE_METADATA=strip against the same load with keep. */
function strippingCost(stripped: readonly RunResult[], kept: readonly RunResult[]): string {
  const on = measured(stripped.find((r) => r.server === 'service'));
  const off = measured(kept.find((r) => r.server === 'service'));
  if (on === undefined || off === undefined) return 'stripping: not measured';
  const fewer = 100 * (1 - on.rps / off.rps);
  return (
    `stripping metadata (image-ingest, strip vs keep): ${fixed(on.rps)} vs ${fixed(off.rps)} req/s ` +
    `(${fixed(fewer)}% fewer; target at most 10%: ${fewer <= 10 ? 'met' : 'NOT met'}), ` +
    `CPU ${fixed(on.cpuMsPerRequest, 2)} vs ${fixed(off.cpuMsPerRequest, 2)} ms/request`
  );
}

/** Whether a scenario configures variants (IMAGE_VARIANTS non-empty, here or in --env). */
function scenarioVariants(scenario: Scenario): boolean {
  return (extraEnv.IMAGE_VARIANTS ?? scenario.env?.IMAGE_VARIANTS ?? '').trim() !== '';
}

/**
 * The variants a server started with `env` must answer and store beside each original, read
 * with the service's own parser (dist/); undefined when it makes none.
 */
async function expectedVariants(
  env: Readonly<Record<string, string>>,
): Promise<{ names: string[]; extension: string } | undefined> {
  const { parseVariantSpecs, variantExtension, isVariantFormat } = (await import(
    new URL('../dist/images/variant-spec.js', import.meta.url).href
  )) as typeof import('../src/images/variant-spec.ts');
  const specs = parseVariantSpecs(env.IMAGE_VARIANTS ?? '');
  if (specs.length === 0) return undefined;
  const format = (env.IMAGE_VARIANT_FORMAT ?? 'webp').toLowerCase();
  if (!isVariantFormat(format)) throw new Error(`IMAGE_VARIANT_FORMAT: no format "${format}"`);
  return { names: specs.map((spec) => spec.name), extension: variantExtension(format) };
}

/**
 * What making the variants costs each server, from two runs that differ only in IMAGE_VARIANTS:
 * the extra CPU per request, and its share of the request's CPU with variants.
 */
function variantsCost(withVariants: readonly RunResult[], without: readonly RunResult[]): string {
  const parts: string[] = [];
  for (const on of withVariants) {
    const off = measured(without.find((r) => r.server === on.server));
    if (on.server === 'bare') continue;
    if (measured(on) === undefined || off === undefined) {
      parts.push(`${serverLabels[on.server]} not measured`);
      continue;
    }
    const extra = on.cpuMsPerRequest - off.cpuMsPerRequest;
    parts.push(
      `${serverLabels[on.server]} ${fixed(extra, 2)} ms of ${fixed(on.cpuMsPerRequest, 2)} ` +
        `(${fixed((100 * extra) / on.cpuMsPerRequest, 0)}%; ${fixed(on.rps)} vs ${fixed(off.rps)} req/s)`,
    );
  }
  return `variants take, of each request's CPU (with variants minus without): ${parts.join('; ') || '-'}`;
}

let failed = false;
process.stdout.write(
  `image-ingest bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ` +
    `${fixed(os.totalmem() / 1024 ** 3)} GiB RAM; load average ${os
      .loadavg()
      .map((l) => fixed(l, 2))
      .join(' ')}; ` +
    `storage: ${storages.join(', ')}` +
    `${args.smoke ? '; SMOKE run (small sizes, no targets)' : ''}\n`,
);
const resultsByScenario = new Map<string, RunResult[]>();
try {
  for (const scenario of chosen) {
    if (scenario.renditions !== undefined) {
      const options = args.smoke ? smokeRenditionOptions : fullRenditionOptions;
      failed ||= await runRenditionsScenario(
        {
          root,
          extraEnv,
          nodeArgs: args['node-arg'] ?? [],
          profileDir: args.profile ? profileDir : undefined,
          emulatorEndpoint,
        },
        {
          ...options,
          lines: new Set(
            scenario.renditions.filter((line) => line !== 'gcs' || storages.includes('gcs')),
          ),
        },
      );
      continue;
    }
    if (scenario.heic !== undefined) {
      // Rows: service means image-ingest with each decoder; baseline means the heif-convert peer.
      const rows = heicRows.filter((row: HeicRow) =>
        servers.includes(row === 'peer' ? 'baseline' : 'service'),
      );
      const heicFailed = await runHeicScenario(
        { root, tempRoot, extraEnv, nodeArgs: args['node-arg'] ?? [] },
        {
          key: scenario.key,
          title: scenario.title,
          fixture: scenario.heic.fixture,
          uploads: scenario.heic.uploads,
          concurrency: scenario.connections,
          memoryConcurrency: scenario.heic.memoryConcurrency,
          decodes: scenario.heic.decodes,
          ...(args.smoke || scenario.heic.targets === undefined
            ? {}
            : { targets: scenario.heic.targets }),
        },
        rows,
      );
      failed ||= heicFailed;
      continue;
    }
    if (scenario.tus !== undefined) {
      const image = await noiseJpeg(scenario.imageBytes);
      const tusFailed = await runTusScenario(
        {
          root,
          tempRoot,
          emulatorEndpoint,
          extraEnv,
          nodeArgs: args['node-arg'] ?? [],
          profileDir: args.profile ? profileDir : undefined,
        },
        {
          key: scenario.key,
          title: scenario.title,
          image,
          imageLabel: 'a JPEG of noise (q100, 4:4:4, bench/bodies.ts noiseJpeg)',
          chunkBytes: scenario.tus.chunkBytes,
          uploads:
            scenario.connections *
            ('seconds' in scenario.load ? 1 : scenario.load.requestsPerConnection),
          concurrency: scenario.connections,
          warmUps: args.smoke ? 1 : 3,
          ...(args.smoke || scenario.tus.targets === undefined
            ? {}
            : { targets: scenario.tus.targets }),
        },
        storages,
        tusRows.filter((row) => servers.some((server) => tusRowsOf[server].includes(row))),
      );
      failed ||= tusFailed;
      continue;
    }
    const jpeg =
      scenario.camera === undefined
        ? jpegOfSize(scenario.imageBytes)
        : await cameraJpeg(scenario.camera);
    const body = imageBody(
      scenario.input ?? 'json',
      scenario.phone === true ? withPhoneMetadata(jpeg) : jpeg,
    );
    let bareResult: RunResult | undefined;
    for (const storageDriver of storages) {
      const results: RunResult[] = [];
      for (const server of servers) {
        if (server === 'bare') {
          // The ceiling stores nothing: one run serves every storage's table.
          bareResult ??= await runOne(scenario, 'bare', 'none', body);
          results.push(bareResult);
        } else {
          results.push(await runOne(scenario, server, storageDriver, body));
        }
      }
      if (results.some((r) => r.problems.length > 0)) failed = true;
      const floor = await measureFloor(scenario, storageDriver, body);
      resultsByScenario.set(`${scenario.key}/${storageDriver}`, results);
      const structureResults =
        scenario.sameButStructure === undefined
          ? undefined
          : resultsByScenario.get(`${scenario.sameButStructure}/${storageDriver}`);
      process.stdout.write(report(scenario, storageDriver, body, results, structureResults, floor));
      const strippedResults =
        scenario.sameButKept === undefined
          ? undefined
          : resultsByScenario.get(`${scenario.sameButKept}/${storageDriver}`);
      if (strippedResults !== undefined) {
        process.stdout.write(`${strippingCost(strippedResults, results)}\n`);
      }
      const variantResults =
        scenario.sameButVariants === undefined
          ? undefined
          : resultsByScenario.get(`${scenario.sameButVariants}/${storageDriver}`);
      if (variantResults !== undefined) {
        process.stdout.write(`${variantsCost(variantResults, results)}\n`);
      }
    }
  }
} finally {
  await stopEmulator();
}
process.exitCode = failed ? 1 : 0;
