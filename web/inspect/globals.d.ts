// What the page's other scripts put on the global scope (index.html loads them in order).

/** onnxruntime-web's UMD build (ort.wasm.min.js): the WebAssembly backend only. */
declare const ort: typeof import('onnxruntime-common');

/** protobufjs's minimal UMD build: its wire-format Reader, to read the model's metadata. */
declare const protobuf: typeof import('protobufjs/minimal');

/** spotdiff-shared.js, generated at build time from spotdiff's own modules. */
declare const spotdiffShared: {
  /** src/data/pil-resample.ts: Pillow's antialiased bilinear resize of interleaved 8-bit pixels. */
  resamplePilBilinear(data: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Uint8Array;
  /** src/report/colormap.ts: the turbo table (RGB of entry i at [3i, 3i + 3)). */
  turbo: Uint8Array;
};

/** ort-wasm-embedded.js, loaded only when the page is opened from disk: the runtime's glue and binary. */
declare const spotdiffOrtEmbedded: { mjs: string; wasmBase64: string } | undefined;
