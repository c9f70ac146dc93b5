export {
  createClient,
  deleteImage,
  getImage,
  serverOffersTus,
  uploadImage,
  type ClientOptions,
  type DeleteOptions,
  type UploadOptions,
  type UploadProgress,
  type UploadVia,
} from './client.js';
export { ImageIngestError, isImageIngestError, type ClientErrorCode } from './errors.js';
export type { UploadInput } from './input.js';
export type { TusModule } from './tus.js';
export {
  renditionUrl,
  srcset,
  type RenditionOptions,
  type RenditionUrlOptions,
} from './renditions.js';
export type {
  CreatedImage,
  ErrorCode,
  Image,
  ImageVariant,
  Placeholder,
  RenditionLinks,
} from './types.js';
