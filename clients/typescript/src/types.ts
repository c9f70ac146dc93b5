/** The service's shapes, from the types generated out of its OpenAPI document (schema.d.ts). */
import type { components } from './schema.js';

type Schemas = components['schemas'];

/** A stored image, as GET /v1/images/{id} describes it. */
export type Image = Schemas['Image'];
/** The answer to an accepted upload: the image, and its deleteToken when anonymous. */
export type CreatedImage = Schemas['CreatedImage'];
export type ImageVariant = Schemas['Variant'];
export type Placeholder = Schemas['Placeholder'];
/** Where an image's renditions are: its srcset, each width's URL, each preset's URL. */
export type RenditionLinks = Schemas['RenditionLinks'];
/** Every code of the service's error catalogue. */
export type ErrorCode = Schemas['Error']['error']['code'];
