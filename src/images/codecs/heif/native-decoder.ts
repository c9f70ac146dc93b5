import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import sharp from 'sharp';
import { type DecodedHeif, type HeifDecodeLimits, type HeifDecoder } from './heif-decoder.js';
// Decoder failures are told as the grammar tells a bad header: nothing of the decoder's own words.
import { tooManyPixels, undecodable } from '../../formats/grammar.js';

export interface NativeHeifDecoderOptions {
  /** Where the input (when held in memory) and the decoded PNG are written for the child. */
  readonly tempDirectory?: string;
}

interface Finished {
  readonly stdout: string;
}

/**
 * Debian's libheif tools (package libheif-examples, with libde265): `heif-info` reads the
 * headers, `heif-convert` decodes to a PNG that carries the ICC profile. Each is a child
 * process, killed at the time limit, with its address space capped (prlimit), so a hang, a
 * crash or a runaway allocation fails that one image. Used only when HEIC_DECODER=native.
 */
export class NativeHeifDecoder implements HeifDecoder {
  readonly description: string;

  private constructor(
    version: string,
    private readonly options: NativeHeifDecoderOptions,
  ) {
    this.description = `heif-convert (libheif ${version}, libde265) as a child process`;
  }

  /** The decoder, or why it cannot be used here (missing tools, no HEVC decoder). */
  static async open(options: NativeHeifDecoderOptions = {}): Promise<NativeHeifDecoder> {
    let listed: Finished;
    try {
      listed = await run('heif-convert', ['--list-decoders'], 5_000);
    } catch (error) {
      throw new Error('heif-convert is not installed (Debian: apt-get install libheif-examples)', {
        cause: error,
      });
    }
    // The decoders come after "HEIC decoders:" and before the next heading.
    const heic = /HEIC decoders:\n((?:- .*\n)*)/.exec(listed.stdout)?.[1] ?? '';
    if (!/libde265|ffmpeg/.test(heic)) {
      throw new Error('heif-convert has no HEVC decoder (Debian: apt-get install libde265-0)');
    }
    const version = /libheif version: ([0-9.]+)/.exec(
      (await run('heif-info', ['--help'], 5_000, true)).stdout,
    )?.[1];
    return new NativeHeifDecoder(version ?? 'unknown', options);
  }

  async decode(input: Buffer | string, limits: HeifDecodeLimits): Promise<DecodedHeif> {
    const directory = await mkdtemp(path.join(this.options.tempDirectory ?? os.tmpdir(), 'heif-'));
    try {
      const source = typeof input === 'string' ? input : path.join(directory, 'in.heic');
      if (typeof input !== 'string') await writeFile(source, input);
      const started = Date.now();
      const header = await this.readHeader(source, limits.timeoutMs);
      if (header.width * header.height > limits.maxPixels) {
        throw tooManyPixels(header.width, header.height, limits.maxPixels);
      }
      const output = path.join(directory, 'out.png');
      // Room for the HEVC planes, the RGBA image and the PNG rows, plus the program itself.
      const addressSpace = 256 * 1024 * 1024 + header.width * header.height * 12;
      const left = Math.max(1, limits.timeoutMs - (Date.now() - started));
      try {
        await run(
          'prlimit',
          [`--as=${addressSpace}`, '--', 'heif-convert', '--quiet', source, output],
          left,
        );
      } catch (error) {
        throw undecodable(
          (error as { killed?: boolean }).killed === true
            ? 'it took too long to decode'
            : 'its HEVC data does not decode',
          error,
        );
      }
      return {
        image: await readFile(output),
        width: header.width,
        height: header.height,
        hasAlpha: header.hasAlpha,
      };
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {}

  /**
   * The primary image's displayed size (libheif applies `irot`, `clap`, and a grid's size),
   * from libvips' own libheif, which reads headers only; heif-info (which on some files also
   * decodes, 15 s for a 200 MP Galaxy photo) when that refuses the file.
   */
  private async readHeader(
    source: string,
    timeoutMs: number,
  ): Promise<{ width: number; height: number; hasAlpha: boolean }> {
    try {
      const header = await sharp(source, { limitInputPixels: false }).metadata();
      return { ...header.autoOrient, hasAlpha: header.hasAlpha };
    } catch {
      // libvips' libheif has tighter security limits (256 items): ask the tools' own.
    }
    let info: Finished;
    try {
      info = await run('heif-info', [source], timeoutMs);
    } catch (error) {
      throw undecodable('it is not a HEIF file that libheif can read', error);
    }
    const primary = /^image: (\d+)x(\d+) \(id=\d+\), primary\n((?: .*\n)*)/m.exec(info.stdout);
    if (primary === null) throw undecodable('it has no primary image that libheif can read');
    return {
      width: Number(primary[1]),
      height: Number(primary[2]),
      hasAlpha: /alpha channel: yes/.test(primary[3] ?? ''),
    };
  }
}

const execFileAsync = promisify(execFile);

/** Runs a program to its end; `usageExits`: a non-zero exit still answers (a usage page). */
async function run(
  command: string,
  args: string[],
  timeoutMs: number,
  usageExits = false,
): Promise<Finished> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 1024 * 1024,
      encoding: 'utf8',
    });
    return { stdout: stdout + stderr };
  } catch (error) {
    const exited = error as { code?: unknown; stdout?: string; stderr?: string };
    if (usageExits && typeof exited.code === 'number') {
      return { stdout: (exited.stdout ?? '') + (exited.stderr ?? '') };
    }
    throw error;
  }
}
