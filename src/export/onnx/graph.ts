import { SpotdiffError } from '../../util/errors.js';
import { AttributeType, DataType, encodeModel, ONNX_IR_VERSION, ONNX_OPSET } from './schema.js';

/** An attribute value: integers and integer lists as INT/INTS, strings, or tagged floats. */
export type AttrValue = number | readonly number[] | string | { float: number } | { floats: readonly number[] };

/** A dimension: a size, or a name for a dynamic one (the batch). */
export type Dim = number | string;

interface NodeRecord {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: Record<string, unknown>[];
}

/** Bytes of weights one protobuf file can hold, less room for the graph itself. */
const PROTOBUF_LIMIT = 2 ** 31 - 2 ** 24;

function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new SpotdiffError('ERR_BAD_INPUT', `ONNX attribute ${name}: ${v} is not an integer (tag floats as { float })`);
    return { name, type: AttributeType.INT, i: v };
  }
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: [...v.floats] };
  return { name, type: AttributeType.INTS, ints: [...v] };
}

function valueInfo(name: string, dims: readonly Dim[]): Record<string, unknown> {
  const dim = dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d }));
  return { name, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim } } } };
}

function checkDims(name: string, dims: readonly number[], size: number): void {
  const want = dims.reduce((a, b) => a * b, 1);
  if (want !== size) throw new SpotdiffError('ERR_SHAPE', `ONNX initializer ${name}: ${size} values for dims [${dims.join(', ')}]`);
}

/**
 * Builds one ONNX graph (opset 17, default domain): float32 inputs and outputs with named
 * dynamic dims, initializers from typed arrays (raw little-endian bytes), nodes with one or more
 * outputs under fresh names. Encoded through the ONNX schema (./schema.ts).
 */
export class GraphBuilder {
  private readonly nodes: NodeRecord[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly names = new Set<string>();
  private counter = 0;
  private initializerBytes = 0;
  private readonly constants = new Map<string, string>();

  /** A fresh value name starting with `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Keeps names (the graph's outputs) from being handed out by fresh(). */
  reserve(names: readonly string[]): void {
    for (const n of names) this.names.add(n);
  }

  input(name: string, dims: readonly Dim[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** Declares `value` a graph output under `name` (reserved beforehand; an Identity node renames it). */
  output(value: string, name: string, dims: readonly Dim[]): void {
    this.nodes.push({ op_type: 'Identity', name: `out_${name}`, input: [value], output: [name], attribute: [] });
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 initializer (float64 input is rounded once, here). */
  floats(hint: string, data: Float32Array | Float64Array | readonly number[], dims: readonly number[]): string {
    const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
    checkDims(hint, dims, f32.length);
    const name = this.fresh(hint);
    const raw = new Uint8Array(f32.buffer.slice(f32.byteOffset, f32.byteOffset + f32.byteLength));
    this.initializers.push({ name, data_type: DataType.FLOAT, dims: [...dims], raw_data: raw });
    this.initializerBytes += raw.byteLength;
    return name;
  }

  /** An int64 initializer. */
  ints(hint: string, data: readonly number[] | BigInt64Array, dims: readonly number[] = [data.length]): string {
    const i64 = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
    checkDims(hint, dims, i64.length);
    const name = this.fresh(hint);
    this.initializers.push({ name, data_type: DataType.INT64, dims: [...dims], raw_data: new Uint8Array(i64.buffer.slice(i64.byteOffset, i64.byteOffset + i64.byteLength)) });
    return name;
  }

  /** A shared int64 constant list (axes, shapes, pads), one initializer per distinct value. */
  intList(values: readonly number[]): string {
    const key = values.join(',');
    let name = this.constants.get(key);
    if (name === undefined) {
      name = this.ints(`const_i64_${values.length}`, values);
      this.constants.set(key, name);
    }
    return name;
  }

  /** A shared float32 scalar constant. */
  scalar(value: number): string {
    const key = `f:${value}`;
    let name = this.constants.get(key);
    if (name === undefined) {
      name = this.floats('const_f32', [value], []);
      this.constants.set(key, name);
    }
    return name;
  }

  /** One node with one output; returns the output's name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, hint = opType.toLowerCase()): string {
    return this.opN(opType, inputs, 1, attrs, hint)[0] as string;
  }

  /** One node with `count` outputs. An empty input name stands for an omitted optional input. */
  opN(opType: string, inputs: readonly string[], count: number, attrs: Record<string, AttrValue> = {}, hint = opType.toLowerCase()): string[] {
    const output = Array.from({ length: count }, (_, i) => this.fresh(count === 1 ? hint : `${hint}_${i}`));
    const attrList = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    this.nodes.push({ op_type: opType, name: this.fresh(`node_${hint}`), input: [...inputs], output, attribute: attrList });
    return output;
  }

  /** The encoded ModelProto with `metadata` as metadata_props. */
  encode(graphName: string, metadata: Readonly<Record<string, string>>, producerVersion: string): Uint8Array {
    if (this.outputs.length === 0) throw new SpotdiffError('ERR_BAD_INPUT', 'ONNX graph has no outputs');
    // One protobuf message cannot exceed 2 GiB; ONNX's external-data files are not written here.
    if (this.initializerBytes > PROTOBUF_LIMIT) {
      throw new SpotdiffError(
        'ERR_BAD_INPUT',
        `ONNX export: the model's weights take ${(this.initializerBytes / 2 ** 30).toFixed(2)} GiB, over the 2 GiB a single .onnx file can hold (external weight files are not supported by the exporter); a smaller input size, backbone or memory bank fits`,
      );
    }
    return encodeModel({
      ir_version: ONNX_IR_VERSION,
      producer_name: 'spotdiff',
      producer_version: producerVersion,
      opset_import: [{ domain: '', version: ONNX_OPSET }],
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
  }
}
