/**
 * The inspection page: a model (picked from disk, or ?model=URL, which spotdiff serve sets to
 * its own) and an image (picked or dropped) → score, verdict at the model's stored threshold,
 * heatmap over the image. Everything runs in this tab; the image never leaves it.
 * The page's state is in data-state of #status (idle, loading, ready, scoring, scored, error)
 * and the full score in data-score of #score, for scripts that drive the page.
 */
const $ = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page lacks #${id}`);
  return e as T;
};

let current: PageModel | null = null;
let lastImage: Blob | null = null;

function setStatus(state: string, text: string): void {
  const s = $('status');
  s.dataset.state = state;
  s.textContent = text;
  s.classList.toggle('error', state === 'error');
}

function showModel(m: PageModel): void {
  const { info } = m;
  $('model-name').textContent = `${m.source}: ${info.method} on ${info.backbone}, object "${info.object}", ` +
    `input ${info.input.width}×${info.input.height} (images of ${info.inputImages.width}×${info.inputImages.height}), ` +
    `threshold ${info.threshold.image.toPrecision(6)}`;
}

async function useModel(bytes: Uint8Array, source: string): Promise<void> {
  setStatus('loading', `loading ${source}…`);
  current = null;
  const m = await openModel(bytes, source);
  current = m;
  showModel(m);
  setStatus('ready', 'model ready: pick or drop an image');
  if (lastImage !== null) await useImage(lastImage);
}

function showScore(m: PageModel, img: DecodedImage, scored: PageScores): void {
  const { threshold, localises } = m.info;
  const score = $('score');
  score.textContent = scored.score.toPrecision(6);
  score.dataset.score = String(scored.score);
  const anomalous = scored.score >= threshold.image;
  const verdict = $('verdict');
  verdict.textContent = anomalous ? 'anomalous' : 'normal';
  verdict.className = anomalous ? 'bad' : 'good';
  $('threshold').textContent = `threshold ${threshold.image.toPrecision(6)} (${threshold.source})`;
  const canvas = $<HTMLCanvasElement>('overlay');
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new Error('no 2D canvas in this browser');
  if (localises) {
    const range = heatmapRange(threshold.pixel, scored.map);
    ctx.putImageData(overlayPixels(img, scored.map, range), 0, 0);
    $('scale').textContent = `colour scale ${range.vmin.toPrecision(4)} … ${range.vmax.toPrecision(4)}`;
  } else {
    ctx.putImageData(overlayPixels(img, scored.map, { vmin: 0, vmax: 1 }, 0), 0, 0);
    $('scale').textContent = 'this method scores whole images only: no heatmap';
  }
}

async function useImage(file: Blob): Promise<void> {
  lastImage = file;
  const m = current;
  if (m === null) {
    setStatus('idle', 'image kept: pick a model (.onnx from spotdiff export) to score it');
    return;
  }
  setStatus('scoring', 'scoring…');
  const decoded = await decodeImage(file);
  const want = m.info.inputImages;
  if (decoded.width !== want.width || decoded.height !== want.height) {
    throw new Error(`the image is ${decoded.width}×${decoded.height}; this model takes ${want.width}×${want.height} images, as it was fitted on`);
  }
  const img = resizeForModel(decoded, m.info.input.width, m.info.input.height);
  const t0 = performance.now();
  const scored = await scoreChw(m, toChw(img));
  showScore(m, img, scored);
  setStatus('scored', `scored in ${Math.round(performance.now() - t0)} ms in this tab`);
}

/** Runs a step, showing its error on the page instead of losing it in the console. */
function guarded(step: () => Promise<void>): void {
  step().catch((e: unknown) => setStatus('error', (e as Error).message ?? String(e)));
}

function takeFile(file: File): void {
  if (file.name.toLowerCase().endsWith('.onnx')) guarded(async () => useModel(new Uint8Array(await file.arrayBuffer()), file.name));
  else guarded(() => useImage(file));
}

async function fetchModel(url: string): Promise<void> {
  setStatus('loading', `fetching ${url}…`);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${res.statusText} ${await res.text()}`);
  await useModel(new Uint8Array(await res.arrayBuffer()), url);
}

function wire(): void {
  const modelInput = $<HTMLInputElement>('model-file');
  modelInput.addEventListener('change', () => {
    const f = modelInput.files?.[0];
    if (f !== undefined) guarded(async () => useModel(new Uint8Array(await f.arrayBuffer()), f.name));
  });
  const imageInput = $<HTMLInputElement>('image-file');
  imageInput.addEventListener('change', () => {
    const f = imageInput.files?.[0];
    if (f !== undefined) guarded(() => useImage(f));
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    for (const f of e.dataTransfer?.files ?? []) takeFile(f);
  });
  if (pageIsFromDisk()) $('from-disk').hidden = false;
  const url = new URLSearchParams(location.search).get('model');
  if (url !== null && !pageIsFromDisk()) guarded(() => fetchModel(url));
  else setStatus('idle', 'pick a model (.onnx from spotdiff export)');
}

wire();
