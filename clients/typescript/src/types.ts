/**
 * The service's shapes. PROVISIONAL: written by hand until the OpenAPI document lands; then
 * these become aliases of the generated src/schema.d.ts.
 */
export interface ImageVariant {
  readonly url: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly contentType: string;
  readonly frames?: number;
}

export interface Image {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly contentType: string;
  readonly extension: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
  readonly frames?: number;
  readonly orientation: number;
  readonly createdAt: string;
  readonly variants?: Readonly<Record<string, ImageVariant>>;
  readonly placeholder?: {
    readonly thumbhash: string;
    readonly blurhash: string;
    readonly color: string;
  };
}

export type CreatedImage = Image & { readonly deleteToken?: string };

export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'invalid_data_uri'
  | 'invalid_base64'
  | 'empty_image'
  | 'invalid_idempotency_key'
  | 'unauthorized'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unsupported_image_type'
  | 'missing_data'
  | 'undecodable_image'
  | 'too_many_pixels'
  | 'idempotency_key_reused'
  | 'rate_limited'
  | 'internal_error'
  | 'not_implemented'
  | 'storage_unavailable'
  | 'server_busy'
  | 'forbidden'
  | 'invalid_multipart'
  | 'too_many_files'
  | 'unexpected_file_field'
  | 'too_many_parts'
  | 'too_many_fields'
  | 'field_too_large'
  | 'missing_file';
