/**
 * The API's shapes, as openapi-typescript generates them from openapi/solo.yaml
 * (`npm run generate`). What the spec does not declare yet lives in protocol.ts.
 */
import type { components } from "./generated/solo-api.js";

type Schemas = components["schemas"];

export type Operation = Schemas["PatchOperation"];
export type Session = Schemas["Session"];
export type Change = Schemas["Change"];
export type ChangePage = Schemas["ChangePage"];
export type WriteResult = Schemas["WriteResult"];
export type ChangesCompacted = Schemas["ChangesCompactedError"];

/** Every error body the spec declares: `error` is the discriminating code. */
export type DeclaredError = Extract<Schemas[keyof Schemas], { error: string; request_id: string }>;
export type ErrorCode = DeclaredError["error"];
