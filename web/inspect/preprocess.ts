/**
 * An image file → the graph's input: decoded by the browser, colours as stored (no colour
 * management, as sharp's decode in spotdiff), alpha dropped (as sharp's removeAlpha), resized
 * with Pillow's antialiased bilinear (spotdiff's own pil-resample, the torchvision reference
 * that the pipeline's sharp 'linear' shrink approximates), float32 CHW in [0, 1] (the graph
 * normalises).
 */
interface DecodedImage {
  width: number;
  height: number;
  /** Interleaved RGB, 8 bits. */
  rgb: Uint8Array;
}

async function decodeImage(file: Blob): Promise<DecodedImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new Error(`the browser cannot decode this image (${(e as Error).message})`);
  }
  const { width, height } = bitmap;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (ctx === null) throw new Error('no 2D canvas in this browser');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgb[i] = rgba[j] as number;
    rgb[i + 1] = rgba[j + 1] as number;
    rgb[i + 2] = rgba[j + 2] as number;
  }
  return { width, height, rgb };
}

/** The image at the model's input size (RGB), as the pipeline's resize makes it. */
function resizeForModel(img: DecodedImage, width: number, height: number): DecodedImage {
  if (img.width === width && img.height === height) return img;
  return { width, height, rgb: spotdiffShared.resamplePilBilinear(img.rgb, img.width, img.height, 3, width, height) };
}

/** Interleaved RGB → planar float32 [3, H, W] in [0, 1] (ToTensor's division, in float32). */
function toChw(img: DecodedImage): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) out[c * plane + i] = (img.rgb[i * 3 + c] as number) / 255;
  }
  return out;
}
