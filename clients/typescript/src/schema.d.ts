// Generated from the OpenAPI document by clients/typescript/scripts/generate-types.mjs
// (openapi-typescript). Do not edit: run `npm run build:client` and commit the result.

export interface paths {
    "/v1/images": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upload an image
         * @description The body is the image in one of three forms, chosen by Content-Type: JSON with a base64 data URI, a multipart form with one `file` (or `image`) part, or the bytes themselves. The type is sniffed from the bytes; labels are ignored. With an Idempotency-Key, a retry answers the first upload again instead of storing a second copy.
         */
        post: operations["createImage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/images/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Describe a stored image */
        get: operations["getImage"];
        put?: never;
        post?: never;
        /**
         * Delete a stored image and its variants
         * @description Allowed to the authenticated caller that uploaded it, or to whoever presents the delete token its upload answered with (an anonymous upload).
         */
        delete: operations["deleteImage"];
        options?: never;
        head?: never;
        /**
         * Set the focal point that crops with gravity=focus keep in view
         * @description Allowed to whoever may delete the image (its owner, or the bearer of its delete token). Renditions made around the old focal point are removed.
         */
        patch: operations["setImageFocus"];
        trace?: never;
    };
    "/v1/images/{id}/render": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A rendition of a stored image, made on first request and stored
         * @description Signed with HMAC-SHA256 (RENDER_SIGNING_KEYS) over the path and the query without `sig`, its parameters sorted by name; a `preset` alone needs no signature. Never enlarged; upright, sRGB, no metadata. The first request renders from the original and stores the result; every later one is served from the store. Public: no credentials, no rate limit (the signature is the authorisation).
         */
        get: operations["renderImage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/upload/image": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Upload an image as JSON (open-event-server alias) */
        post: operations["compatUploadImage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/upload/files": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upload one `file` or several `files[]` (open-event-server alias)
         * @description All or nothing: when one part is refused, the images already stored by the request are deleted. One `file` part answers its description; `files[]` parts answer a list.
         */
        post: operations["compatUploadFiles"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads/direct": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Get a URL to send an image’s bytes to
         * @description The bytes then skip this service’s request body: PUT them to `url` with exactly `headers` (`put`: one PUT of the whole image; `resumable`: a session taking chunks with Content-Range, 308 with Range until the last, then 200, as GCS and UpChunk do), then POST `completeUrl`. With GCS the URL is the bucket’s (a V4 signed URL or a resumable session); with the local driver it is PUT /v1/uploads/direct/{id} here.
         */
        post: operations["createDirectUpload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads/{id}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Store a direct upload’s bytes as an image
         * @description No body. Reads the staged bytes through the same pipeline as POST /v1/images and answers as it does; a retry answers the same image again, never a second one. Refused bytes leave nothing behind. 409 while the bytes have not all arrived; 410 after twice the expiry. Only its creator sees an upload: another’s is a 404.
         */
        post: operations["completeDirectUpload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads/direct/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Send a direct upload’s bytes (local driver)
         * @description The `url` POST /v1/uploads/direct answered, as it stands: the signature is the credential (no Authorization). `method=put`: the whole image in one body. `method=resumable`: chunks with `Content-Range: bytes <first>-<last>/<total>` (`bytes *\/<total>` asks what has arrived); 308 with `Range: bytes=0-<n>` until the last byte, then 200. The bytes wait unverified, never served, until completed.
         */
        put: operations["sendDirectUpload"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a resumable (tus) upload
         * @description Upload-Length (or Upload-Defer-Length: 1) declares the size; a body, if any, is the first chunk (creation-with-upload). The Location is the upload’s URL for HEAD, PATCH and DELETE. Upload-Concat: partial makes a partial upload, whose bytes wait for a final upload; Upload-Concat: final;<URLs> (no Upload-Length, no body) makes the final upload of complete partials, in that order, checked and stored as one image by this request (201 with Image-Location), the partials removed.
         */
        post: operations["createUpload"];
        delete?: never;
        /** What this tus server supports */
        options: operations["describeTusServer"];
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The image a tus upload made, or how far it is
         * @description Not part of tus. 200 with the stored image once finished; 202 while receiving; a refused upload answers the pipeline’s error, as POST /v1/images would have.
         */
        get: operations["getUpload"];
        put?: never;
        post?: never;
        /** Terminate a tus upload */
        delete: operations["terminateUpload"];
        /** What this tus server supports */
        options: operations["describeTusUpload"];
        /** How much of a tus upload the server holds */
        head: operations["getUploadOffset"];
        /**
         * Send the next chunk of a tus upload
         * @description Upload-Offset must equal the bytes the upload holds (HEAD tells). The chunk that completes the upload stores the image, as POST /v1/images does (a partial upload’s waits for its final upload). A final upload takes no PATCH (403).
         */
        patch: operations["appendToUpload"];
        trace?: never;
    };
    "/uploads/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A stored image or variant (local driver)
         * @description Served with its sniffed type, immutable caching and a sandboxing CSP; with validators (`ETag`, `Last-Modified`) for conditional requests, and one byte range per request (several ranges get the whole file).
         */
        get: operations["getStoredFile"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness
         * @description Answers as long as the process serves HTTP; never looks at the store.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness
         * @description Whether to send uploads here: the store answers, and the process is not draining.
         */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This OpenAPI document */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/docs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The API reference page (Redoc) */
        get: operations["getReferencePage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/docs/redoc.standalone.js": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The Redoc bundle the reference page loads */
        get: operations["getReferencePageScript"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The upload page (HTML) */
        get: operations["getUploadPage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/page/page.js": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The upload page’s script */
        get: operations["getUploadPageScript"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/page/page.css": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The upload page’s style */
        get: operations["getUploadPageStyle"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/page/client/{file}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A module of the typed client’s browser build */
        get: operations["getUploadPageClientModule"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/page/tus.min.js": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** tus-js-client’s browser bundle */
        get: operations["getUploadPageTusBundle"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/page/settings.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** What the upload page needs to know: whether to ask for a key, the size limit */
        get: operations["getUploadPageSettings"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description What a page shows while the image loads. */
        Placeholder: {
            /** @description ThumbHash, base64: keeps the aspect ratio and alpha. */
            thumbhash: string;
            /** @description BlurHash, 4 x 3 components (3 x 4 for a portrait image). */
            blurhash: string;
            /** @description The average colour, weighted by alpha. */
            color: string;
        };
        /** @description A resized copy of the image (IMAGE_VARIANTS). */
        Variant: {
            /** Format: uri */
            url: string;
            width: number;
            height: number;
            /** @description Frames of an animated variant; absent for a still one. */
            frames?: number;
            bytes: number;
            contentType: string;
        };
        /** @description What a crop with gravity=focus keeps in view (upright image). */
        FocalPoint: {
            /** @description From the left edge (0) to the right (1). */
            x: number;
            /** @description From the top edge (0) to the bottom (1). */
            y: number;
        };
        /** @description Where the image’s renditions are (GET /v1/images/{id}/render): made when first asked for, in the format Accept picks. */
        RenditionLinks: {
            /** @description For `<img srcset>`: each URL below with its width (`<url> 320w, ...`). */
            srcset: string;
            /** @description A signed rendition URL per RENDER_WIDTHS width narrower than the image, and one at its own width. */
            widths: {
                width: number;
                /** Format: uri */
                url: string;
            }[];
            /** @description The URL of each preset (IMAGE_VARIANTS), which needs no signature. */
            presets?: {
                [key: string]: string;
            };
        };
        /** @description What to put in an <img> for every browser: the original when browsers show its type (JPEG, PNG, GIF, WebP, AVIF, BMP), else a JPEG rendition made at upload (HEIC, HEIF, TIFF): full size, upright, sRGB, no metadata. */
        Display: {
            /**
             * Format: uri
             * @description The original’s URL, or its display rendition’s (`<id>.display.jpg`).
             */
            url: string;
            width: number;
            height: number;
            contentType: string;
        };
        /** @description A stored image, as GET /v1/images/{id} describes it. */
        Image: {
            /** Format: uuid */
            id: string;
            /** @description `<id>.<extension>`, the stored object’s name. */
            name: string;
            /**
             * Format: uri
             * @description Where the stored image is served.
             */
            url: string;
            /** @description The type sniffed from the bytes. */
            contentType: string;
            extension: string;
            bytes: number;
            sha256: string;
            /** @description As displayed (EXIF orientation already applied). */
            width: number;
            height: number;
            /** @description Frames of an animation; absent for a still image. */
            frames?: number;
            /** @description The EXIF orientation the stored image carries. */
            orientation: number;
            /** Format: date-time */
            createdAt: string;
            variants?: {
                [key: string]: components["schemas"]["Variant"];
            };
            placeholder?: components["schemas"]["Placeholder"];
            focus?: components["schemas"]["FocalPoint"];
            /** @description Absent for a type no rendition can be made of. */
            renditions?: components["schemas"]["RenditionLinks"];
            display: components["schemas"]["Display"];
        };
        /** @description The answer to an accepted upload. */
        CreatedImage: {
            /** Format: uuid */
            id: string;
            /** @description `<id>.<extension>`, the stored object’s name. */
            name: string;
            /**
             * Format: uri
             * @description Where the stored image is served.
             */
            url: string;
            /** @description The type sniffed from the bytes. */
            contentType: string;
            extension: string;
            bytes: number;
            sha256: string;
            /** @description As displayed (EXIF orientation already applied). */
            width: number;
            height: number;
            /** @description Frames of an animation; absent for a still image. */
            frames?: number;
            /** @description The EXIF orientation the stored image carries. */
            orientation: number;
            /** Format: date-time */
            createdAt: string;
            variants?: {
                [key: string]: components["schemas"]["Variant"];
            };
            placeholder?: components["schemas"]["Placeholder"];
            focus?: components["schemas"]["FocalPoint"];
            /** @description Absent for a type no rendition can be made of. */
            renditions?: components["schemas"]["RenditionLinks"];
            display: components["schemas"]["Display"];
            /** @description Handed out once, to an anonymous uploader: send it as Delete-Token to delete the image. */
            deleteToken?: string;
        };
        /** @description The answer to several `files[]` parts: their URLs and their descriptions. */
        CompatFiles: {
            url: string[];
            images: components["schemas"]["CreatedImage"][];
        };
        /** @description A tus upload that is still receiving. */
        UploadProgress: {
            id: string;
            /** @constant */
            state: "receiving";
            offset: number;
            /** @description null while the length is deferred. */
            length: number | null;
            /** Format: date-time */
            expiresAt: string;
        };
        /** @description Other members are ignored; the type is taken from the bytes, not the label. */
        ImageJsonRequest: {
            /** @description The image as a base64 data URI: data:<type>;base64,<payload>. */
            data: string;
            /** @description The image’s focal point (or the Image-Focus header; not both). */
            focus?: components["schemas"]["FocalPoint"];
        } & {
            [key: string]: unknown;
        };
        /** @description What POST /v1/uploads/direct takes (at most 4 KiB); other members are ignored. */
        DirectUploadRequest: {
            /** @description The image’s exact size in bytes, at most MAX_IMAGE_BYTES (413 above). */
            size: number;
            /** @description A hint for the pipeline, never trusted: the bytes decide the type. */
            type?: string;
            /**
             * @description `put` (the default): one PUT to a signed URL; `resumable`: a chunked session.
             * @enum {string}
             */
            method?: "put" | "resumable";
        } & {
            [key: string]: unknown;
        };
        /** @description Where and how to send the bytes, then complete. */
        DirectUpload: {
            /** Format: uuid */
            id: string;
            /** @enum {string} */
            method: "put" | "resumable";
            /**
             * Format: uri
             * @description Where the bytes go: a signed URL or a resumable session URI.
             */
            url: string;
            /** @description Send exactly these with the PUT (signed ones among them). */
            headers: {
                [key: string]: string;
            };
            /**
             * Format: date-time
             * @description The URL may be started until then.
             */
            expiresAt: string;
            /**
             * Format: uri
             * @description POST here once the bytes have arrived.
             */
            completeUrl: string;
        };
        /** @description The local driver took the whole upload. */
        DirectUploadReceived: {
            /** Format: uuid */
            id: string;
            /** @description The bytes the upload now holds: all of them. */
            size: number;
        };
        /** @description Every failure: a stable code from the error catalogue and a message. */
        Error: {
            error: {
                /** @enum {string} */
                code: "bad_request" | "invalid_json" | "invalid_data_uri" | "invalid_base64" | "empty_image" | "invalid_idempotency_key" | "unauthorized" | "not_found" | "method_not_allowed" | "payload_too_large" | "unsupported_media_type" | "unsupported_image_type" | "missing_data" | "undecodable_image" | "too_many_pixels" | "idempotency_key_reused" | "range_not_satisfiable" | "rate_limited" | "internal_error" | "not_implemented" | "storage_unavailable" | "server_busy" | "forbidden" | "invalid_multipart" | "too_many_files" | "unexpected_file_field" | "too_many_parts" | "too_many_fields" | "field_too_large" | "missing_file" | "json_required" | "request_too_large" | "invalid_upload_request" | "invalid_signature" | "signed_put_unavailable" | "upload_incomplete" | "upload_size_mismatch" | "invalid_content_range" | "tus_version_unsupported" | "invalid_upload_length" | "invalid_upload_offset" | "invalid_upload_metadata" | "invalid_upload_checksum" | "invalid_upload_content_type" | "upload_offset_mismatch" | "upload_too_large" | "too_many_open_uploads" | "too_many_upload_pieces" | "upload_checksum_mismatch" | "upload_expired" | "invalid_upload_concat" | "too_many_partial_uploads" | "partial_upload_not_found" | "not_a_partial_upload" | "partial_upload_incomplete" | "partial_upload_used" | "upload_is_final" | "invalid_render_parameter" | "invalid_focus" | "invalid_render_signature" | "upload_rejected";
                /** @description Safe to show; the code is what programs should read. */
                message: string;
            };
        };
        Health: {
            /** @constant */
            status: "ok";
        };
        Readiness: {
            /** @enum {string} */
            status: "ready" | "draining" | "store_unreachable";
            /** @enum {string} */
            rateLimitStore?: "reachable" | "unreachable";
        };
    };
    responses: never;
    parameters: {
        /**
         * @description 1 to 255 visible ASCII characters. A retry with the same key and the same image answers the first upload again; with another image, 422 idempotency_key_reused.
         * @example upload-2026-12-01-0001
         */
        IdempotencyKey: string;
        /**
         * @description The image’s focal point, `x,y`, each from 0 (left, top) to 1: crops with gravity=focus keep it in view. A JSON body may carry it as its member `focus`, a form as its field `focus`, tus as Upload-Metadata `focus`: one of them, not two. Set or changed later with PATCH /v1/images/{id}.
         * @example 0.5,0.3
         */
        ImageFocus: string;
        /** @description The deleteToken an anonymous upload answered with. */
        DeleteToken: string;
    };
    requestBodies: never;
    headers: {
        /** @description The stored image’s URL. */
        Location: string;
        /**
         * @description Seconds to wait before trying again.
         * @example 5
         */
        "Retry-After": string;
        /**
         * @description The caller’s quota in this window (IETF RateLimit header fields draft).
         * @example limit=60, remaining=59, reset=60
         */
        RateLimit: string;
        /**
         * @description The quota: requests per window of seconds.
         * @example 60;w=60
         */
        "RateLimit-Policy": string;
        /**
         * @description The Bearer challenge.
         * @example Bearer realm="image-ingest"
         */
        "WWW-Authenticate": string;
        /**
         * @description Never cached.
         * @example no-store
         */
        "Cache-Control-No-Store": string;
        /** @description The request’s id (the caller’s own X-Request-Id when sane), as logged. */
        "X-Request-Id": string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    createImage: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description 1 to 255 visible ASCII characters. A retry with the same key and the same image answers the first upload again; with another image, 422 idempotency_key_reused.
                 * @example upload-2026-12-01-0001
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
                /**
                 * @description The image’s focal point, `x,y`, each from 0 (left, top) to 1: crops with gravity=focus keep it in view. A JSON body may carry it as its member `focus`, a form as its field `focus`, tus as Upload-Metadata `focus`: one of them, not two. Set or changed later with PATCH /v1/images/{id}.
                 * @example 0.5,0.3
                 */
                "Image-Focus"?: components["parameters"]["ImageFocus"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ImageJsonRequest"];
                "multipart/form-data": {
                    file: string;
                    /**
                     * @description The image’s focal point, `x,y`, each from 0 to 1 (or the Image-Focus header; not both). Before or after the file.
                     * @example 0.5,0.3
                     */
                    focus?: string;
                };
                "image/*": string;
                "application/octet-stream": string;
            };
        };
        responses: {
            /** @description Stored. Location is the image’s URL. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60",
                     *       "name": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *       "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *       "contentType": "image/png",
                     *       "extension": "png",
                     *       "bytes": 90,
                     *       "sha256": "5b0a5b1c3f8f2c1e4f62f1b08f0f1c0f6a7e0f3d2b5a0e9c8d7b6a5f4e3d2c1b",
                     *       "width": 1,
                     *       "height": 1,
                     *       "orientation": 1,
                     *       "createdAt": "2026-12-01T12:00:00.000Z",
                     *       "display": {
                     *         "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *         "width": 1,
                     *         "height": 1,
                     *         "contentType": "image/png"
                     *       },
                     *       "deleteToken": "b3JkaW5hcnktZGVsZXRlLXRva2VuLWV4YW1wbGU"
                     *     }
                     */
                    "application/json": components["schemas"]["CreatedImage"];
                };
            };
            /**
             * @description `invalid_idempotency_key`: The Idempotency-Key header must be 1 to 255 visible ASCII characters.
             *
             *     `empty_image`: The image is empty (zero bytes).
             *
             *     `invalid_focus`: The focal point must be {"focus": {"x": <0 to 1>, "y": <0 to 1>}} (PATCH), or "x,y" (Image-Focus header, focus field or tus metadata), each from 0 to 1.
             *
             *     `invalid_json`: The request body is not valid JSON.
             *
             *     `invalid_data_uri`: The "data" field is not a base64 data URI (data:<type>;base64,<payload>).
             *
             *     `invalid_base64`: The data URI payload is not valid base64.
             *
             *     `invalid_multipart`: The request body is not a complete multipart/form-data body.
             *
             *     `too_many_files`: The form holds more file parts than allowed.
             *
             *     `unexpected_file_field`: The form holds a file part under a name this endpoint does not take.
             */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_idempotency_key" | "empty_image" | "invalid_focus" | "invalid_json" | "invalid_data_uri" | "invalid_base64" | "invalid_multipart" | "too_many_files" | "unexpected_file_field";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `payload_too_large`: The image is larger than the allowed maximum.
             *
             *     `too_many_parts`: The form holds more parts than allowed.
             *
             *     `too_many_fields`: The form holds more text fields than allowed.
             *
             *     `field_too_large`: A text field of the form is larger than allowed.
             */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "payload_too_large" | "too_many_parts" | "too_many_fields" | "field_too_large";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `unsupported_media_type`: Send the image as JSON (application/json), as a form (multipart/form-data), or as its own bytes (image/* or application/octet-stream).
             *
             *     `unsupported_image_type`: The bytes are not an image of an allowed type.
             */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unsupported_media_type" | "unsupported_image_type";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `undecodable_image`: The bytes are not a complete, valid image of the type they claim.
             *
             *     `too_many_pixels`: The image declares more pixels than the allowed maximum.
             *
             *     `idempotency_key_reused`: This Idempotency-Key was already used for a different image; use a new key.
             *
             *     `missing_data`: The request body must be a JSON object with a string field "data".
             *
             *     `missing_file`: The form holds no file part named "file" (or "image").
             */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "undecodable_image" | "too_many_pixels" | "idempotency_key_reused" | "missing_data" | "missing_file";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `server_busy`: Too many uploads are in progress; try again shortly.
             *
             *     `storage_unavailable`: The image store is unavailable; try again later.
             */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "server_busy" | "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getImage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The image’s id, as its upload answered it.
                 * @example 3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The image’s description, read back from the store. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60",
                     *       "name": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *       "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *       "contentType": "image/png",
                     *       "extension": "png",
                     *       "bytes": 90,
                     *       "sha256": "5b0a5b1c3f8f2c1e4f62f1b08f0f1c0f6a7e0f3d2b5a0e9c8d7b6a5f4e3d2c1b",
                     *       "width": 1,
                     *       "height": 1,
                     *       "orientation": 1,
                     *       "createdAt": "2026-12-01T12:00:00.000Z",
                     *       "display": {
                     *         "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *         "width": 1,
                     *         "height": 1,
                     *         "contentType": "image/png"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Image"];
                };
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `storage_unavailable`: The image store is unavailable; try again later. */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    deleteImage: {
        parameters: {
            query?: never;
            header?: {
                /** @description The deleteToken an anonymous upload answered with. */
                "Delete-Token"?: components["parameters"]["DeleteToken"];
            };
            path: {
                /**
                 * @description The image’s id, as its upload answered it.
                 * @example 3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `forbidden`: You may not delete this image. */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "forbidden";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `storage_unavailable`: The image store is unavailable; try again later. */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    setImageFocus: {
        parameters: {
            query?: never;
            header?: {
                /** @description The deleteToken an anonymous upload answered with. */
                "Delete-Token"?: components["parameters"]["DeleteToken"];
            };
            path: {
                /**
                 * @description The image’s id, as its upload answered it.
                 * @example 3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "focus": {
                 *         "x": 0.5,
                 *         "y": 0.3
                 *       }
                 *     }
                 */
                "application/json": {
                    focus: components["schemas"]["FocalPoint"];
                };
            };
        };
        responses: {
            /** @description The image’s description, with its new focal point. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60",
                     *       "name": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *       "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *       "contentType": "image/png",
                     *       "extension": "png",
                     *       "bytes": 90,
                     *       "sha256": "5b0a5b1c3f8f2c1e4f62f1b08f0f1c0f6a7e0f3d2b5a0e9c8d7b6a5f4e3d2c1b",
                     *       "width": 1,
                     *       "height": 1,
                     *       "orientation": 1,
                     *       "createdAt": "2026-12-01T12:00:00.000Z",
                     *       "display": {
                     *         "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *         "width": 1,
                     *         "height": 1,
                     *         "contentType": "image/png"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Image"];
                };
            };
            /**
             * @description `invalid_focus`: The focal point must be {"focus": {"x": <0 to 1>, "y": <0 to 1>}} (PATCH), or "x,y" (Image-Focus header, focus field or tus metadata), each from 0 to 1.
             *
             *     `invalid_json`: The request body is not valid JSON.
             */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_focus" | "invalid_json";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `forbidden`: You may not delete this image. */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "forbidden";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `request_too_large`: The request body is larger than this endpoint takes. */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "request_too_large";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `json_required`: Send this request as JSON (application/json). */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "json_required";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `server_busy`: Too many uploads are in progress; try again shortly.
             *
             *     `storage_unavailable`: The image store is unavailable; try again later.
             */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "server_busy" | "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    renderImage: {
        parameters: {
            query?: {
                /** @description Width of the box in CSS pixels (before dpr). */
                w?: number;
                /** @description Height of the box in CSS pixels (before dpr). */
                h?: number;
                /** @description How the image meets the box (default inside). */
                fit?: "cover" | "contain" | "inside" | "fill";
                /** @description Output format; auto picks AVIF, WebP or JPEG from Accept (the default). */
                format?: "auto" | "avif" | "webp" | "jpeg" | "png";
                /** @description Quality, 1 to 100 (ignored for PNG). */
                q?: number;
                /** @description Device pixel ratio, 1 to 4, at most two decimals. */
                dpr?: number;
                /** @description What a cover crop keeps (default centre; focus: the image’s focal point). */
                gravity?: "centre" | "focus" | "attention" | "entropy";
                /** @description A configured preset (IMAGE_VARIANTS) by name. */
                preset?: string;
                /** @description Unpadded base64url HMAC-SHA256 signature. */
                sig?: string;
            };
            header?: {
                "If-None-Match"?: string;
            };
            path: {
                /**
                 * @description The image’s id, as its upload answered it.
                 * @example 3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The rendition. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    /** @description public, max-age=31536000, immutable: a rendition’s URL always means the same bytes. */
                    "Cache-Control"?: string;
                    /** @description Strong; send it back in If-None-Match for a 304. */
                    ETag?: string;
                    /** @description `Accept` when the format was chosen from it (format=auto). */
                    Vary?: string;
                    [name: string]: unknown;
                };
                content: {
                    "image/*": string;
                };
            };
            /** @description The rendition named by If-None-Match is still current. */
            304: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    /** @description public, max-age=31536000, immutable: a rendition’s URL always means the same bytes. */
                    "Cache-Control"?: string;
                    /** @description Strong; send it back in If-None-Match for a 304. */
                    ETag?: string;
                    /** @description `Accept` when the format was chosen from it (format=auto). */
                    Vary?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `invalid_render_parameter`: A rendition parameter is missing, unknown, repeated or out of range. */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_render_parameter";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `invalid_render_signature`: The rendition URL is not signed, or its signature does not match its parameters. */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_render_signature";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `undecodable_image`: The bytes are not a complete, valid image of the type they claim.
             *
             *     `too_many_pixels`: The image declares more pixels than the allowed maximum.
             */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "undecodable_image" | "too_many_pixels";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `storage_unavailable`: The image store is unavailable; try again later. */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    compatUploadImage: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description 1 to 255 visible ASCII characters. A retry with the same key and the same image answers the first upload again; with another image, 422 idempotency_key_reused.
                 * @example upload-2026-12-01-0001
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ImageJsonRequest"];
            };
        };
        responses: {
            /** @description Stored. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60",
                     *       "name": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *       "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *       "contentType": "image/png",
                     *       "extension": "png",
                     *       "bytes": 90,
                     *       "sha256": "5b0a5b1c3f8f2c1e4f62f1b08f0f1c0f6a7e0f3d2b5a0e9c8d7b6a5f4e3d2c1b",
                     *       "width": 1,
                     *       "height": 1,
                     *       "orientation": 1,
                     *       "createdAt": "2026-12-01T12:00:00.000Z",
                     *       "display": {
                     *         "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *         "width": 1,
                     *         "height": 1,
                     *         "contentType": "image/png"
                     *       },
                     *       "deleteToken": "b3JkaW5hcnktZGVsZXRlLXRva2VuLWV4YW1wbGU"
                     *     }
                     */
                    "application/json": components["schemas"]["CreatedImage"];
                };
            };
            /**
             * @description `invalid_idempotency_key`: The Idempotency-Key header must be 1 to 255 visible ASCII characters.
             *
             *     `empty_image`: The image is empty (zero bytes).
             *
             *     `invalid_focus`: The focal point must be {"focus": {"x": <0 to 1>, "y": <0 to 1>}} (PATCH), or "x,y" (Image-Focus header, focus field or tus metadata), each from 0 to 1.
             *
             *     `invalid_json`: The request body is not valid JSON.
             *
             *     `invalid_data_uri`: The "data" field is not a base64 data URI (data:<type>;base64,<payload>).
             *
             *     `invalid_base64`: The data URI payload is not valid base64.
             */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_idempotency_key" | "empty_image" | "invalid_focus" | "invalid_json" | "invalid_data_uri" | "invalid_base64";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `payload_too_large`: The image is larger than the allowed maximum. */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "payload_too_large";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `unsupported_media_type`: Send the image as JSON (application/json), as a form (multipart/form-data), or as its own bytes (image/* or application/octet-stream).
             *
             *     `unsupported_image_type`: The bytes are not an image of an allowed type.
             */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unsupported_media_type" | "unsupported_image_type";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `undecodable_image`: The bytes are not a complete, valid image of the type they claim.
             *
             *     `too_many_pixels`: The image declares more pixels than the allowed maximum.
             *
             *     `idempotency_key_reused`: This Idempotency-Key was already used for a different image; use a new key.
             *
             *     `missing_data`: The request body must be a JSON object with a string field "data".
             */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "undecodable_image" | "too_many_pixels" | "idempotency_key_reused" | "missing_data";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `server_busy`: Too many uploads are in progress; try again shortly.
             *
             *     `storage_unavailable`: The image store is unavailable; try again later.
             */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "server_busy" | "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    compatUploadFiles: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description 1 to 255 visible ASCII characters. A retry with the same key and the same image answers the first upload again; with another image, 422 idempotency_key_reused.
                 * @example upload-2026-12-01-0001
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    file?: string;
                    /**
                     * @description The image’s focal point, `x,y`, each from 0 to 1 (or the Image-Focus header; not both). Before or after the file.
                     * @example 0.5,0.3
                     */
                    focus?: string;
                    "files[]"?: string[];
                };
            };
        };
        responses: {
            /** @description Stored. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "url": [
                     *         "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png"
                     *       ],
                     *       "images": [
                     *         {
                     *           "id": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60",
                     *           "name": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *           "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *           "contentType": "image/png",
                     *           "extension": "png",
                     *           "bytes": 90,
                     *           "sha256": "5b0a5b1c3f8f2c1e4f62f1b08f0f1c0f6a7e0f3d2b5a0e9c8d7b6a5f4e3d2c1b",
                     *           "width": 1,
                     *           "height": 1,
                     *           "orientation": 1,
                     *           "createdAt": "2026-12-01T12:00:00.000Z",
                     *           "display": {
                     *             "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *             "width": 1,
                     *             "height": 1,
                     *             "contentType": "image/png"
                     *           },
                     *           "deleteToken": "b3JkaW5hcnktZGVsZXRlLXRva2VuLWV4YW1wbGU"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["CreatedImage"] | components["schemas"]["CompatFiles"];
                };
            };
            /**
             * @description `invalid_idempotency_key`: The Idempotency-Key header must be 1 to 255 visible ASCII characters.
             *
             *     `empty_image`: The image is empty (zero bytes).
             *
             *     `invalid_focus`: The focal point must be {"focus": {"x": <0 to 1>, "y": <0 to 1>}} (PATCH), or "x,y" (Image-Focus header, focus field or tus metadata), each from 0 to 1.
             *
             *     `invalid_multipart`: The request body is not a complete multipart/form-data body.
             *
             *     `too_many_files`: The form holds more file parts than allowed.
             *
             *     `unexpected_file_field`: The form holds a file part under a name this endpoint does not take.
             */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_idempotency_key" | "empty_image" | "invalid_focus" | "invalid_multipart" | "too_many_files" | "unexpected_file_field";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `payload_too_large`: The image is larger than the allowed maximum.
             *
             *     `too_many_parts`: The form holds more parts than allowed.
             *
             *     `too_many_fields`: The form holds more text fields than allowed.
             *
             *     `field_too_large`: A text field of the form is larger than allowed.
             */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "payload_too_large" | "too_many_parts" | "too_many_fields" | "field_too_large";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `unsupported_media_type`: Send the image as JSON (application/json), as a form (multipart/form-data), or as its own bytes (image/* or application/octet-stream).
             *
             *     `unsupported_image_type`: The bytes are not an image of an allowed type.
             */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unsupported_media_type" | "unsupported_image_type";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `undecodable_image`: The bytes are not a complete, valid image of the type they claim.
             *
             *     `too_many_pixels`: The image declares more pixels than the allowed maximum.
             *
             *     `idempotency_key_reused`: This Idempotency-Key was already used for a different image; use a new key.
             *
             *     `missing_file`: The form holds no file part named "file" (or "image").
             */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "undecodable_image" | "too_many_pixels" | "idempotency_key_reused" | "missing_file";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `server_busy`: Too many uploads are in progress; try again shortly.
             *
             *     `storage_unavailable`: The image store is unavailable; try again later.
             */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "server_busy" | "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    createDirectUpload: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DirectUploadRequest"];
            };
        };
        responses: {
            /** @description Created: where and how to send the bytes. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "6d412bc9-424e-4ad4-b68c-2964b40eee84",
                     *       "method": "put",
                     *       "url": "https://storage.googleapis.com/images-bucket/staging/direct/6d412bc9-424e-4ad4-b68c-2964b40eee84/data?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Expires=600&X-Goog-Signature=3f9a0c",
                     *       "headers": {
                     *         "Content-Type": "application/octet-stream",
                     *         "Content-Disposition": "attachment",
                     *         "x-goog-content-length-range": "1598,1598"
                     *       },
                     *       "expiresAt": "2026-12-01T23:20:00.000Z",
                     *       "completeUrl": "https://api.example.com/v1/uploads/6d412bc9-424e-4ad4-b68c-2964b40eee84/complete"
                     *     }
                     */
                    "application/json": components["schemas"]["DirectUpload"];
                };
            };
            /**
             * @description `invalid_json`: The request body is not valid JSON.
             *
             *     `invalid_upload_request`: The body must be {"size": <bytes, a whole number>, "type"?: "<image type>", "method"?: "put" | "resumable"}.
             */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_json" | "invalid_upload_request";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `request_too_large`: The request body is larger than this endpoint takes.
             *
             *     `payload_too_large`: The image is larger than the allowed maximum.
             */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "request_too_large" | "payload_too_large";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `json_required`: Send this request as JSON (application/json). */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "json_required";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `rate_limited`: Too many requests; try again later.
             *
             *     `too_many_open_uploads`: This caller has as many unfinished uploads as allowed; finish, delete or let some expire first.
             */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited" | "too_many_open_uploads";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `signed_put_unavailable`: This service cannot sign upload URLs for "method": "put"; create the upload with "method": "resumable" instead. */
            501: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "signed_put_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `server_busy`: Too many uploads are in progress; try again shortly.
             *
             *     `storage_unavailable`: The image store is unavailable; try again later.
             */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "server_busy" | "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    completeDirectUpload: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description 1 to 255 visible ASCII characters. A retry with the same key and the same image answers the first upload again; with another image, 422 idempotency_key_reused.
                 * @example upload-2026-12-01-0001
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /**
                 * @description The `id` POST /v1/uploads/direct answered (its `completeUrl` holds it).
                 * @example 6d412bc9-424e-4ad4-b68c-2964b40eee84
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Stored. Location is the image’s URL. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60",
                     *       "name": "3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *       "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *       "contentType": "image/png",
                     *       "extension": "png",
                     *       "bytes": 90,
                     *       "sha256": "5b0a5b1c3f8f2c1e4f62f1b08f0f1c0f6a7e0f3d2b5a0e9c8d7b6a5f4e3d2c1b",
                     *       "width": 1,
                     *       "height": 1,
                     *       "orientation": 1,
                     *       "createdAt": "2026-12-01T12:00:00.000Z",
                     *       "display": {
                     *         "url": "https://images.example.com/3f2b6c1e-8a4d-4f7b-9c2e-5d1a0b9e7f60.png",
                     *         "width": 1,
                     *         "height": 1,
                     *         "contentType": "image/png"
                     *       },
                     *       "deleteToken": "b3JkaW5hcnktZGVsZXRlLXRva2VuLWV4YW1wbGU"
                     *     }
                     */
                    "application/json": components["schemas"]["CreatedImage"];
                };
            };
            /**
             * @description `upload_size_mismatch`: The bytes sent are not the size declared for this upload.
             *
             *     `invalid_idempotency_key`: The Idempotency-Key header must be 1 to 255 visible ASCII characters.
             *
             *     `empty_image`: The image is empty (zero bytes).
             *
             *     `invalid_focus`: The focal point must be {"focus": {"x": <0 to 1>, "y": <0 to 1>}} (PATCH), or "x,y" (Image-Focus header, focus field or tus metadata), each from 0 to 1.
             */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_size_mismatch" | "invalid_idempotency_key" | "empty_image" | "invalid_focus";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `upload_incomplete`: The bytes of this upload have not all arrived yet; send them to its URL first. */
            409: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_incomplete";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `upload_expired`: The upload expired; start a new one. */
            410: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_expired";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `upload_too_large`: The bytes sent go past the upload's declared length.
             *
             *     `payload_too_large`: The image is larger than the allowed maximum.
             */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_too_large" | "payload_too_large";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `unsupported_media_type`: Send the image as JSON (application/json), as a form (multipart/form-data), or as its own bytes (image/* or application/octet-stream).
             *
             *     `unsupported_image_type`: The bytes are not an image of an allowed type.
             */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unsupported_media_type" | "unsupported_image_type";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `undecodable_image`: The bytes are not a complete, valid image of the type they claim.
             *
             *     `too_many_pixels`: The image declares more pixels than the allowed maximum.
             *
             *     `idempotency_key_reused`: This Idempotency-Key was already used for a different image; use a new key.
             */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "undecodable_image" | "too_many_pixels" | "idempotency_key_reused";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `server_busy`: Too many uploads are in progress; try again shortly.
             *
             *     `storage_unavailable`: The image store is unavailable; try again later.
             */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "server_busy" | "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    sendDirectUpload: {
        parameters: {
            query: {
                /** @description As signed. */
                method: "put" | "resumable";
                /** @description Unix seconds, as signed. */
                expires: string;
                /** @description The declared size, as signed. */
                size: string;
                /** @description HMAC-SHA256 over id, method, expiry and size. */
                signature: string;
            };
            header?: {
                /** @description (resumable) `bytes <first>-<last>/<total>` or `bytes *\/<total>`. */
                "Content-Range"?: string;
            };
            path: {
                /**
                 * @description The `id` POST /v1/uploads/direct answered (its `completeUrl` holds it).
                 * @example 6d412bc9-424e-4ad4-b68c-2964b40eee84
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/octet-stream": string;
            };
        };
        responses: {
            /** @description The upload holds all its bytes: POST its completeUrl next. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "6d412bc9-424e-4ad4-b68c-2964b40eee84",
                     *       "size": 1598
                     *     }
                     */
                    "application/json": components["schemas"]["DirectUploadReceived"];
                };
            };
            /** @description (resumable) Not whole yet: Range tells what has arrived (absent: nothing yet). */
            308: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    /**
                     * @description The bytes received, `bytes=0-<last>`.
                     * @example bytes=0-262143
                     */
                    Range?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /**
             * @description `upload_size_mismatch`: The bytes sent are not the size declared for this upload.
             *
             *     `invalid_content_range`: Content-Range must be "bytes <first>-<last>/<total or *>", continuing the bytes received.
             */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_size_mismatch" | "invalid_content_range";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `invalid_signature`: The upload URL is not valid. */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_signature";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `upload_expired`: The upload expired; start a new one. */
            410: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_expired";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `upload_too_large`: The bytes sent go past the upload's declared length. */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_too_large";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `server_busy`: Too many uploads are in progress; try again shortly.
             *
             *     `storage_unavailable`: The image store is unavailable; try again later.
             */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "server_busy" | "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    createUpload: {
        parameters: {
            query?: never;
            header: {
                /** @description The tus version the client speaks. */
                "Tus-Resumable": "1.0.0";
                /** @description The whole upload’s size in bytes. */
                "Upload-Length"?: string;
                /** @description 1: the size is sent with a later PATCH. */
                "Upload-Defer-Length"?: "1";
                /** @description Comma-separated `key base64value` pairs: filename and filetype (hints only), and focus, the image’s focal point `x,y` (each from 0 to 1; 400 invalid_focus if not). */
                "Upload-Metadata"?: string;
                /** @description `<sha1|sha256|md5> <base64 digest>` of this chunk. */
                "Upload-Checksum"?: string;
                /** @description `partial`, or `final;` and the space-separated URLs of this caller’s complete partial uploads on this server (absolute, or paths such as /v1/uploads/{id}), each once. */
                "Upload-Concat"?: string;
                /**
                 * @description 1 to 255 visible ASCII characters. A retry with the same key and the same image answers the first upload again; with another image, 422 idempotency_key_reused.
                 * @example upload-2026-12-01-0001
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/offset+octet-stream": string;
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    Location: components["headers"]["Location"];
                    /** @description 1.0.0, on every tus answer but OPTIONS. */
                    "Tus-Resumable"?: string;
                    /** @description The bytes the upload holds (a final upload: its length, once it is done). */
                    "Upload-Offset"?: string;
                    /** @description A partial or final upload (concatenation): `partial`, or `final;` and its partials’ URLs as sent. */
                    "Upload-Concat"?: string;
                    /** @description Its declared length (absent while deferred). */
                    "Upload-Length"?: string;
                    /** @description 1 while the length is still unknown. */
                    "Upload-Defer-Length"?: string;
                    /** @description When an unfinished upload is swept (HTTP date). */
                    "Upload-Expires"?: string;
                    /** @description Once finished: the stored image’s URL. */
                    "Image-Location"?: string;
                    /** @description Once finished: the stored image’s id. */
                    "Image-Id"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /**
             * @description `invalid_upload_metadata`: Upload-Metadata must be comma-separated "key base64value" pairs.
             *
             *     `invalid_focus`: The focal point must be {"focus": {"x": <0 to 1>, "y": <0 to 1>}} (PATCH), or "x,y" (Image-Focus header, focus field or tus metadata), each from 0 to 1.
             *
             *     `invalid_upload_concat`: Upload-Concat must be "partial", or "final;" and the space-separated URLs of partial uploads of this server (absolute or as paths), each once; a final upload takes no Upload-Length and no body.
             *
             *     `too_many_partial_uploads`: Upload-Concat names more than 64 partial uploads; a final upload joins at most 64.
             *
             *     `partial_upload_not_found`: An upload named in Upload-Concat does not exist, expired, or was not created by this caller.
             *
             *     `not_a_partial_upload`: An upload named in Upload-Concat was not created with Upload-Concat: partial.
             *
             *     `invalid_upload_offset`: Upload-Offset must be a whole number of bytes.
             *
             *     `invalid_upload_length`: Upload-Length must be a whole number of bytes (or send Upload-Defer-Length: 1).
             *
             *     `invalid_upload_checksum`: Upload-Checksum must be "<algorithm> <base64 digest>" with sha1, sha256 or md5.
             *
             *     `too_many_upload_pieces`: The upload was sent in too many small chunks; send larger chunks.
             *
             *     `invalid_idempotency_key`: The Idempotency-Key header must be 1 to 255 visible ASCII characters.
             *
             *     `empty_image`: The image is empty (zero bytes).
             */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_upload_metadata" | "invalid_focus" | "invalid_upload_concat" | "too_many_partial_uploads" | "partial_upload_not_found" | "not_a_partial_upload" | "invalid_upload_offset" | "invalid_upload_length" | "invalid_upload_checksum" | "too_many_upload_pieces" | "invalid_idempotency_key" | "empty_image";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `partial_upload_incomplete`: A partial upload named in Upload-Concat has not received all its bytes; finish it first.
             *
             *     `partial_upload_used`: A partial upload is taken by a final upload (or used by one that named other partials, or them in another order).
             *
             *     `upload_offset_mismatch`: Upload-Offset does not match the bytes the upload holds; ask with HEAD and resume.
             */
            409: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "partial_upload_incomplete" | "partial_upload_used" | "upload_offset_mismatch";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `upload_expired`: The upload expired; start a new one.
             *
             *     `upload_rejected`: The upload was refused and terminated; GET /v1/uploads/{id} tells why.
             */
            410: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_expired" | "upload_rejected";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `tus_version_unsupported`: This server speaks tus 1.0.0; send Tus-Resumable: 1.0.0. */
            412: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "tus_version_unsupported";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `upload_too_large`: The bytes sent go past the upload's declared length.
             *
             *     `payload_too_large`: The image is larger than the allowed maximum.
             */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_too_large" | "payload_too_large";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `invalid_upload_content_type`: A PATCH body must be sent as application/offset+octet-stream.
             *
             *     `unsupported_media_type`: Send the image as JSON (application/json), as a form (multipart/form-data), or as its own bytes (image/* or application/octet-stream).
             *
             *     `unsupported_image_type`: The bytes are not an image of an allowed type.
             */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_upload_content_type" | "unsupported_media_type" | "unsupported_image_type";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `undecodable_image`: The bytes are not a complete, valid image of the type they claim.
             *
             *     `too_many_pixels`: The image declares more pixels than the allowed maximum.
             *
             *     `idempotency_key_reused`: This Idempotency-Key was already used for a different image; use a new key.
             */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "undecodable_image" | "too_many_pixels" | "idempotency_key_reused";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `rate_limited`: Too many requests; try again later.
             *
             *     `too_many_open_uploads`: This caller has as many unfinished uploads as allowed; finish, delete or let some expire first.
             */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited" | "too_many_open_uploads";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `upload_checksum_mismatch`: The chunk does not match its Upload-Checksum; it was discarded. */
            460: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_checksum_mismatch";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `server_busy`: Too many uploads are in progress; try again shortly.
             *
             *     `storage_unavailable`: The image store is unavailable; try again later.
             */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "server_busy" | "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    describeTusServer: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The tus version, extensions, largest upload and checksum algorithms. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    /** @description 1.0.0 */
                    "Tus-Version"?: string;
                    /** @description The extensions, comma-separated. */
                    "Tus-Extension"?: string;
                    /** @description MAX_IMAGE_BYTES. */
                    "Tus-Max-Size"?: string;
                    /** @description sha1,sha256,md5 */
                    "Tus-Checksum-Algorithm"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getUpload: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The upload’s id, the last segment of the Location its creation answered. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Finished: the stored image. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    /** @description 1.0.0, on every tus answer but OPTIONS. */
                    "Tus-Resumable"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedImage"];
                };
            };
            /** @description Still receiving. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    /** @description 1.0.0, on every tus answer but OPTIONS. */
                    "Tus-Resumable"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UploadProgress"];
                };
            };
            /**
             * @description `invalid_idempotency_key`: The Idempotency-Key header must be 1 to 255 visible ASCII characters.
             *
             *     `empty_image`: The image is empty (zero bytes).
             *
             *     `invalid_focus`: The focal point must be {"focus": {"x": <0 to 1>, "y": <0 to 1>}} (PATCH), or "x,y" (Image-Focus header, focus field or tus metadata), each from 0 to 1.
             */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_idempotency_key" | "empty_image" | "invalid_focus";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `upload_expired`: The upload expired; start a new one. */
            410: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_expired";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `payload_too_large`: The image is larger than the allowed maximum. */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "payload_too_large";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `unsupported_media_type`: Send the image as JSON (application/json), as a form (multipart/form-data), or as its own bytes (image/* or application/octet-stream).
             *
             *     `unsupported_image_type`: The bytes are not an image of an allowed type.
             */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unsupported_media_type" | "unsupported_image_type";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `undecodable_image`: The bytes are not a complete, valid image of the type they claim.
             *
             *     `too_many_pixels`: The image declares more pixels than the allowed maximum.
             *
             *     `idempotency_key_reused`: This Idempotency-Key was already used for a different image; use a new key.
             */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "undecodable_image" | "too_many_pixels" | "idempotency_key_reused";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `storage_unavailable`: The image store is unavailable; try again later. */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    terminateUpload: {
        parameters: {
            query?: never;
            header: {
                /** @description The tus version the client speaks. */
                "Tus-Resumable": "1.0.0";
            };
            path: {
                /** @description The upload’s id, the last segment of the Location its creation answered. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Terminated. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description 1.0.0, on every tus answer but OPTIONS. */
                    "Tus-Resumable"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `partial_upload_used`: A partial upload is taken by a final upload (or used by one that named other partials, or them in another order).
             *
             *     `upload_offset_mismatch`: Upload-Offset does not match the bytes the upload holds; ask with HEAD and resume.
             */
            409: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "partial_upload_used" | "upload_offset_mismatch";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `upload_expired`: The upload expired; start a new one. */
            410: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_expired";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `tus_version_unsupported`: This server speaks tus 1.0.0; send Tus-Resumable: 1.0.0. */
            412: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "tus_version_unsupported";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    describeTusUpload: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The upload’s id, the last segment of the Location its creation answered. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Not an upload id this service makes: the router’s own answer. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    /** @description The methods the path takes. */
                    Allow?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The tus version, extensions, largest upload and checksum algorithms. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    /** @description 1.0.0 */
                    "Tus-Version"?: string;
                    /** @description The extensions, comma-separated. */
                    "Tus-Extension"?: string;
                    /** @description MAX_IMAGE_BYTES. */
                    "Tus-Max-Size"?: string;
                    /** @description sha1,sha256,md5 */
                    "Tus-Checksum-Algorithm"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getUploadOffset: {
        parameters: {
            query?: never;
            header: {
                /** @description The tus version the client speaks. */
                "Tus-Resumable": "1.0.0";
            };
            path: {
                /** @description The upload’s id, the last segment of the Location its creation answered. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Its offset and length. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    /** @description 1.0.0, on every tus answer but OPTIONS. */
                    "Tus-Resumable"?: string;
                    /** @description The bytes the upload holds (a final upload: its length, once it is done). */
                    "Upload-Offset"?: string;
                    /** @description A partial or final upload (concatenation): `partial`, or `final;` and its partials’ URLs as sent. */
                    "Upload-Concat"?: string;
                    /** @description Its declared length (absent while deferred). */
                    "Upload-Length"?: string;
                    /** @description 1 while the length is still unknown. */
                    "Upload-Defer-Length"?: string;
                    /** @description When an unfinished upload is swept (HTTP date). */
                    "Upload-Expires"?: string;
                    /** @description Once finished: the stored image’s URL. */
                    "Image-Location"?: string;
                    /** @description Once finished: the stored image’s id. */
                    "Image-Id"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `upload_expired`: The upload expired; start a new one.
             *
             *     `upload_rejected`: The upload was refused and terminated; GET /v1/uploads/{id} tells why.
             */
            410: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_expired" | "upload_rejected";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `tus_version_unsupported`: This server speaks tus 1.0.0; send Tus-Resumable: 1.0.0. */
            412: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "tus_version_unsupported";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    appendToUpload: {
        parameters: {
            query?: never;
            header: {
                /** @description The tus version the client speaks. */
                "Tus-Resumable": "1.0.0";
                /** @description Where this chunk starts. */
                "Upload-Offset": string;
                /** @description The size, once, for an upload created deferred. */
                "Upload-Length"?: string;
                /** @description `<sha1|sha256|md5> <base64 digest>` of this chunk. */
                "Upload-Checksum"?: string;
            };
            path: {
                /** @description The upload’s id, the last segment of the Location its creation answered. */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/offset+octet-stream": string;
            };
        };
        responses: {
            /** @description Taken. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    /** @description 1.0.0, on every tus answer but OPTIONS. */
                    "Tus-Resumable"?: string;
                    /** @description The bytes the upload holds (a final upload: its length, once it is done). */
                    "Upload-Offset"?: string;
                    /** @description A partial or final upload (concatenation): `partial`, or `final;` and its partials’ URLs as sent. */
                    "Upload-Concat"?: string;
                    /** @description Its declared length (absent while deferred). */
                    "Upload-Length"?: string;
                    /** @description 1 while the length is still unknown. */
                    "Upload-Defer-Length"?: string;
                    /** @description When an unfinished upload is swept (HTTP date). */
                    "Upload-Expires"?: string;
                    /** @description Once finished: the stored image’s URL. */
                    "Image-Location"?: string;
                    /** @description Once finished: the stored image’s id. */
                    "Image-Id"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /**
             * @description `invalid_upload_offset`: Upload-Offset must be a whole number of bytes.
             *
             *     `invalid_upload_length`: Upload-Length must be a whole number of bytes (or send Upload-Defer-Length: 1).
             *
             *     `invalid_upload_checksum`: Upload-Checksum must be "<algorithm> <base64 digest>" with sha1, sha256 or md5.
             *
             *     `too_many_upload_pieces`: The upload was sent in too many small chunks; send larger chunks.
             *
             *     `invalid_idempotency_key`: The Idempotency-Key header must be 1 to 255 visible ASCII characters.
             *
             *     `empty_image`: The image is empty (zero bytes).
             *
             *     `invalid_focus`: The focal point must be {"focus": {"x": <0 to 1>, "y": <0 to 1>}} (PATCH), or "x,y" (Image-Focus header, focus field or tus metadata), each from 0 to 1.
             */
            400: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_upload_offset" | "invalid_upload_length" | "invalid_upload_checksum" | "too_many_upload_pieces" | "invalid_idempotency_key" | "empty_image" | "invalid_focus";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `unauthorized`: Missing or invalid credentials (Authorization: Bearer <API key or token>). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "unauthorized";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `upload_is_final`: A final upload takes no PATCH: its bytes are those of its partial uploads. */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_is_final";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `upload_offset_mismatch`: Upload-Offset does not match the bytes the upload holds; ask with HEAD and resume. */
            409: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_offset_mismatch";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `upload_expired`: The upload expired; start a new one.
             *
             *     `upload_rejected`: The upload was refused and terminated; GET /v1/uploads/{id} tells why.
             */
            410: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_expired" | "upload_rejected";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `tus_version_unsupported`: This server speaks tus 1.0.0; send Tus-Resumable: 1.0.0. */
            412: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "tus_version_unsupported";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `upload_too_large`: The bytes sent go past the upload's declared length.
             *
             *     `payload_too_large`: The image is larger than the allowed maximum.
             */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_too_large" | "payload_too_large";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `invalid_upload_content_type`: A PATCH body must be sent as application/offset+octet-stream.
             *
             *     `unsupported_media_type`: Send the image as JSON (application/json), as a form (multipart/form-data), or as its own bytes (image/* or application/octet-stream).
             *
             *     `unsupported_image_type`: The bytes are not an image of an allowed type.
             */
            415: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "invalid_upload_content_type" | "unsupported_media_type" | "unsupported_image_type";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `undecodable_image`: The bytes are not a complete, valid image of the type they claim.
             *
             *     `too_many_pixels`: The image declares more pixels than the allowed maximum.
             *
             *     `idempotency_key_reused`: This Idempotency-Key was already used for a different image; use a new key.
             */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "undecodable_image" | "too_many_pixels" | "idempotency_key_reused";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `rate_limited`: Too many requests; try again later. */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "rate_limited";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `upload_checksum_mismatch`: The chunk does not match its Upload-Checksum; it was discarded. */
            460: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "upload_checksum_mismatch";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /**
             * @description `server_busy`: Too many uploads are in progress; try again shortly.
             *
             *     `storage_unavailable`: The image store is unavailable; try again later.
             */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    RateLimit: components["headers"]["RateLimit"];
                    "RateLimit-Policy": components["headers"]["RateLimit-Policy"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "server_busy" | "storage_unavailable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getStoredFile: {
        parameters: {
            query?: never;
            header?: {
                /** @description ETags the client holds: 304 if one matches. */
                "If-None-Match"?: string;
                /** @description Without If-None-Match: 304 if not modified since. */
                "If-Modified-Since"?: string;
                /** @description One range, `bytes=first-last`, `bytes=first-` or `bytes=-length`. */
                Range?: string;
                /** @description The ETag or Last-Modified the range is for; else the whole file. */
                "If-Range"?: string;
            };
            path: {
                /** @description The `name` (or a variant’s file name) from an image’s description. */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The stored bytes. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    /** @description Immutable: a name is never reused for other bytes. */
                    "Cache-Control"?: string;
                    /** @description Strong: the same tag always means the same bytes. */
                    ETag?: string;
                    "Last-Modified"?: string;
                    "Accept-Ranges"?: "bytes";
                    [name: string]: unknown;
                };
                content: {
                    "image/*": string;
                };
            };
            /** @description The range asked for. */
            206: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    /** @description `bytes first-last/size` */
                    "Content-Range"?: string;
                    /** @description Strong: the same tag always means the same bytes. */
                    ETag?: string;
                    "Last-Modified"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "image/*": string;
                };
            };
            /** @description The client’s copy is current. */
            304: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    /** @description Strong: the same tag always means the same bytes. */
                    ETag?: string;
                    "Last-Modified"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `range_not_satisfiable`: The requested range is not within the file (see Content-Range for its length). */
            416: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "range_not_satisfiable";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Alive. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok"
                     *     }
                     */
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ready"
                     *     }
                     */
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description Draining, or the store did not answer in time (then with Retry-After). */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "store_unreachable"
                     *     }
                     */
                    "application/json": components["schemas"]["Readiness"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The text exposition format. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OpenAPI 3.1, built from the same schemas the service answers with. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getReferencePage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An HTML page that renders /openapi.json. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getReferencePageScript: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Redoc’s standalone bundle, served from node_modules. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/javascript": string;
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getUploadPage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upload page (HTML) */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getUploadPageScript: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upload page’s script */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/javascript": string;
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getUploadPageStyle: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upload page’s style */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/css": string;
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getUploadPageClientModule: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example index.js */
                file: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A module of the typed client’s browser build */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/javascript": string;
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getUploadPageTusBundle: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description tus-js-client’s browser bundle */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "text/javascript": string;
                };
            };
            /** @description `not_found`: Not found. */
            404: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "not_found";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
    getUploadPageSettings: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The settings, public by nature (no secret, no credential). */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Whether /v1/ needs an API key or token. */
                        authRequired: boolean;
                        maxImageBytes: number;
                        allowedTypes: string[];
                    };
                };
            };
            /** @description `internal_error`: An internal error occurred. */
            500: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error: {
                            /** @enum {string} */
                            code: "internal_error";
                            /** @description Safe to show; the code is what programs should read. */
                            message: string;
                        };
                    };
                };
            };
        };
    };
}
