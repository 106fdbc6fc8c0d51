import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { SpotdiffError } from '../../util/errors.js';

/**
 * The ONNX protobuf schema: ONNX's own onnx.proto (vendored unchanged in data/onnx/, origin and
 * licence in its header), parsed by protobufjs. Field names keep the .proto's snake_case.
 */

/** IR version 8 is the one that goes with opset 17 (onnx/docs/Versioning.md). */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

let modelType: protobuf.Type | null = null;

/** The onnx.ModelProto message type (parsed once). */
export function modelProto(): protobuf.Type {
  if (modelType === null) {
    const url = new URL('../../../../data/onnx/onnx.proto', import.meta.url);
    let text: string;
    try {
      text = readFileSync(url, 'utf8');
    } catch (e) {
      throw new SpotdiffError('ERR_IO', `cannot read the ONNX schema ${url.pathname}: ${(e as Error).message}`, { cause: e });
    }
    modelType = protobuf.parse(text, { keepCase: true }).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/** Encodes a plain ModelProto object (checked against the schema first). */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const type = modelProto();
  const problem = type.verify(model);
  if (problem !== null) throw new SpotdiffError('ERR_BAD_INPUT', `ONNX model does not fit the schema: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Decodes ModelProto bytes into a plain object (int64 fields as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const type = modelProto();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as Record<string, unknown>;
}
