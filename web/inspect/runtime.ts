/**
 * ONNX Runtime Web, offline: its WebAssembly files come from beside the page, never a CDN.
 * Served over http(s), the runtime loads them by URL. Opened from disk, Chromium refuses both
 * the dynamic import of the runtime's glue module and fetch() of the .wasm (file:// has no
 * CORS), so the page loads ort-wasm-embedded.js (a classic script, which file:// allows) that
 * carries both as text: the glue is imported from a blob: URL, the binary handed over as bytes.
 */
function pageIsFromDisk(): boolean {
  return location.protocol === 'file:';
}

function loadClassicScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(s);
  });
}

async function base64Bytes(b64: string): Promise<Uint8Array> {
  // A data: URL is one of the schemes a file:// page may fetch; it decodes natively.
  const res = await fetch(`data:application/wasm;base64,${b64}`);
  return new Uint8Array(await res.arrayBuffer());
}

let runtimeReady: Promise<void> | null = null;

/** Points ONNX Runtime at its files (once); rejects with a message a person can act on. */
function prepareRuntime(): Promise<void> {
  runtimeReady ??= (async () => {
    // Threads need a cross-origin-isolated page (spotdiff serve sends the headers); from disk, one.
    ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    if (!pageIsFromDisk()) {
      ort.env.wasm.wasmPaths = new URL('./', location.href).href;
      return;
    }
    try {
      await loadClassicScript('ort-wasm-embedded.js');
    } catch {
      throw new Error('Opened from disk, this browser does not let the page load ONNX Runtime\'s WebAssembly files, and ort-wasm-embedded.js (which carries them for this case) is not beside the page. Open the page from spotdiff serve instead (http://HOST:PORT/).');
    }
    const embedded = spotdiffOrtEmbedded;
    if (embedded === undefined) throw new Error('ort-wasm-embedded.js did not define the runtime');
    ort.env.wasm.wasmPaths = { mjs: URL.createObjectURL(new Blob([embedded.mjs], { type: 'text/javascript' })) };
    ort.env.wasm.wasmBinary = await base64Bytes(embedded.wasmBase64);
  })();
  return runtimeReady;
}

interface PageModel {
  info: PageModelInfo;
  session: import('onnxruntime-common').InferenceSession;
  source: string;
}

async function openModel(bytes: Uint8Array, source: string): Promise<PageModel> {
  const info = readModelInfo(bytes, source);
  await prepareRuntime();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return { info, session, source };
}

interface PageScores {
  score: number;
  /** The anomaly map, [H, W] at the model's input size. */
  map: Float32Array;
}

async function scoreChw(model: PageModel, chw: Float32Array): Promise<PageScores> {
  const { input, outputs } = model.info;
  const feeds = { [input.name]: new ort.Tensor('float32', chw, [1, 3, input.height, input.width]) };
  const out = await model.session.run(feeds);
  const scores = out[outputs.imageScores];
  const maps = out[outputs.maps];
  if (scores === undefined || maps === undefined) throw new Error(`${model.source}: the graph lacks the outputs ${outputs.imageScores} / ${outputs.maps}`);
  return { score: (scores.data as Float32Array)[0] as number, map: maps.data as Float32Array };
}
