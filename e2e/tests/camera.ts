// A phone's camera for the browser tests: Chromium reads a Y4M file as its camera when it is
// started with --use-fake-device-for-media-stream and --use-file-for-fake-video-capture
// (Chromium's file_video_capture_device.cc: a header whose colour space is C420jpeg, each
// frame after exactly `FRAME\n`; the file loops). The picture is a screenshot of what the
// desktop shows, so the phone reads the desktop's own QR code.
import { writeFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

/** A PNG as 8-bit greyscale pixels (Playwright's screenshots: 8-bit RGB or RGBA, not
 * interlaced). */
export function pngToGrey(png: Buffer): { width: number; height: number; grey: Uint8Array } {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8;
  let width = 0, height = 0, colourType = 0;
  const idat: Buffer[] = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, ct, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      if (depth !== 8 || (ct !== 2 && ct !== 6) || interlace !== 0) throw new Error(`PNG kind ${depth}/${ct}/${interlace}`);
      colourType = ct;
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    pos += 12 + len;
  }
  const bpp = colourType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = v & 0xff;
    }
  }
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const [r, g, bl] = [out[i * bpp], out[i * bpp + 1], out[i * bpp + 2]];
    grey[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * bl);
  }
  return { width, height, grey };
}

/** Writes `picture` centred on a white 640×480 frame as a Y4M file (C420jpeg, grey: the
 * chroma planes are neutral), `frames` frames long. */
export function writeY4m(path: string, picture: { width: number; height: number; grey: Uint8Array }, frames = 3) {
  const [W, H] = [640, 480];
  // Scaled (nearest neighbour) to fit 400×400 at most, as a phone held at a screen would see it.
  const scale = Math.min(400 / picture.width, 400 / picture.height);
  const [w, h] = [Math.floor(picture.width * scale), Math.floor(picture.height * scale)];
  const [ox, oy] = [Math.floor((W - w) / 2), Math.floor((H - h) / 2)];
  const y = Buffer.alloc(W * H, 255);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const sx = Math.min(picture.width - 1, Math.floor(i / scale));
      const sy = Math.min(picture.height - 1, Math.floor(j / scale));
      y[(oy + j) * W + ox + i] = picture.grey[sy * picture.width + sx];
    }
  }
  const chroma = Buffer.alloc((W / 2) * (H / 2), 128);
  const header = Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\n`, 'latin1');
  const frame = Buffer.concat([Buffer.from('FRAME\n', 'latin1'), y, chroma, chroma]);
  writeFileSync(path, Buffer.concat([header, ...new Array(frames).fill(frame)]));
}

/** Chromium's switches that make `file` the camera, with no permission prompt. */
export function fakeCameraArgs(file: string): string[] {
  return ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${file}`, '--use-fake-ui-for-media-stream'];
}
