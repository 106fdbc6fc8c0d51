/**
 * What an exported model says about itself, read in the browser: ONNX Runtime Web does not
 * expose metadata_props, so they are read off the ModelProto with protobufjs's wire Reader
 * (field numbers from onnx.proto). Mirrors src/export/onnx/metadata.ts (keys "spotdiff.<field>",
 * JSON values).
 */
interface PageModelInfo {
  method: string;
  object: string;
  backbone: string;
  input: { name: string; height: number; width: number };
  threshold: { image: number; pixel: number; source: string };
  localises: boolean;
  inputImages: { width: number; height: number; channels: number };
  outputs: { imageScores: string; maps: string };
}

/** onnx.proto: ModelProto.metadata_props = 14; StringStringEntryProto key = 1, value = 2. */
const MODEL_METADATA_PROPS = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const WIRE_LENGTH_DELIMITED = 2;

function readEntry(bytes: Uint8Array): [string, string] {
  const r = protobuf.Reader.create(bytes);
  let key = '';
  let value = '';
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === ENTRY_KEY && (tag & 7) === WIRE_LENGTH_DELIMITED) key = r.string();
    else if (tag >>> 3 === ENTRY_VALUE && (tag & 7) === WIRE_LENGTH_DELIMITED) value = r.string();
    else r.skipType(tag & 7);
  }
  return [key, value];
}

/** metadata_props of an ONNX model's bytes (the top-level fields are walked, the graph skipped). */
function metadataProps(model: Uint8Array): Record<string, string> {
  const r = protobuf.Reader.create(model);
  const props: Record<string, string> = {};
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === MODEL_METADATA_PROPS && (tag & 7) === WIRE_LENGTH_DELIMITED) {
      const [k, v] = readEntry(r.bytes());
      props[k] = v;
    } else {
      r.skipType(tag & 7);
    }
  }
  return props;
}

/** The model's spotdiff metadata, or an error saying why the file is not a spotdiff model. */
function readModelInfo(model: Uint8Array, source: string): PageModelInfo {
  let props: Record<string, string>;
  try {
    props = metadataProps(model);
  } catch (e) {
    throw new Error(`${source} is not an ONNX model (${(e as Error).message})`);
  }
  const field = (k: string): unknown => {
    const v = props[`spotdiff.${k}`];
    return v === undefined ? undefined : JSON.parse(v);
  };
  if (field('format') !== 'spotdiff.onnx') throw new Error(`${source} is not an ONNX model exported by spotdiff (no spotdiff.format metadata): export one with spotdiff export`);
  if (field('formatVersion') !== 1) throw new Error(`${source}: spotdiff ONNX format version ${JSON.stringify(field('formatVersion'))}; this page reads version 1`);
  const info = {
    method: field('method'), object: field('object'), backbone: field('backbone'), input: field('input'),
    threshold: field('threshold'), localises: field('localises'), inputImages: field('inputImages'), outputs: field('outputs'),
  } as PageModelInfo;
  if (!Number.isInteger(info.input?.height) || !Number.isInteger(info.input?.width) || !Number.isFinite(info.threshold?.image)) {
    throw new Error(`${source}: the spotdiff metadata lacks the input size or the threshold`);
  }
  return info;
}
