import { canRender } from '../images/open-image.js';
import type { VariantSpec } from '../images/variant-spec.js';
import type { RenditionLinker, RenditionLinks } from '../ingest/image-record.js';
import { renditionPath, renditionQueryString } from './rendition-signing.js';

export interface RenditionLinkOptions {
  /** RENDER_BASE_URL, or the origin the request reached this service at. */
  readonly baseUrl: string;
  /** RENDER_WIDTHS, ascending. */
  readonly widths: readonly number[];
  /** IMAGE_VARIANTS, each a preset with an unsigned URL of its own. */
  readonly presets: readonly VariantSpec[];
  /** The first of RENDER_SIGNING_KEYS; undefined: the URLs go unsigned. */
  readonly signingKey: string | undefined;
}

/**
 * The links every image answer carries: for each configured width narrower than the image,
 * and the image's own width (never enlarged, a wider one would be the same bytes), a signed
 * URL in the format the browser's Accept picks, ready for `<img srcset>`; and each preset's.
 */
export function renditionLinker(options: RenditionLinkOptions): RenditionLinker {
  return (record): RenditionLinks | undefined => {
    if (!canRender(record.contentType)) {
      return undefined;
    }
    const path = renditionPath(record.id);
    const urlOf = (params: [string, string][], key: string | undefined): string =>
      `${options.baseUrl}${path}?${renditionQueryString(path, new Map(params), key)}`;
    const widths = [...options.widths.filter((width) => width < record.width), record.width].map(
      (width) => ({ width, url: urlOf([['w', String(width)]], options.signingKey) }),
    );
    return {
      srcset: widths.map(({ width, url }) => `${url} ${width}w`).join(', '),
      widths,
      ...(options.presets.length === 0
        ? {}
        : {
            presets: Object.fromEntries(
              // A preset alone needs no signature.
              options.presets.map((spec) => [spec.name, urlOf([['preset', spec.name]], undefined)]),
            ),
          }),
    };
  };
}
