import type { DocumentOptions } from '../../../src/http/openapi/document.js';

export declare const schemaTypesFile: string;
export declare const fullDocumentOptions: DocumentOptions;
export declare function schemaTypesOf(document: unknown): Promise<string>;
