export declare const schemaTypesFile: string;
export declare const fullDocumentOptions: {
  readonly serverUrl: string;
  readonly authRequired: boolean;
  readonly rateLimited: boolean;
  readonly localFiles: boolean;
  readonly staging: boolean;
  readonly directUploads: boolean;
};
export declare function schemaTypesOf(document: unknown): Promise<string>;
