// Audio thread: the input at the context's rate -> 16 kHz mono PCM16, posted in 20 ms chunks.
// A box filter as wide as the rate ratio keeps the worst aliasing out before the linear
// resampler; speech for lip sync needs nothing finer.
const OUT_RATE = 16000;
const CHUNK = 320; // 20 ms at 16 kHz

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / OUT_RATE;
    this.width = Math.max(1, Math.round(this.ratio));
    this.history = new Float32Array(this.width);  // last inputs, for the box filter
    this.filled = 0;
    this.pos = 0;          // next output position, in input samples since the start
    this.seen = 0;         // input samples consumed
    this.prev = 0;         // the last filtered input sample
    this.out = new Int16Array(CHUNK);
    this.n = 0;
  }

  push(value) {
    const s = Math.max(-1, Math.min(1, value));
    this.out[this.n++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    if (this.n === CHUNK) {
      this.port.postMessage(this.out.buffer, [this.out.buffer]);
      this.out = new Int16Array(CHUNK);
      this.n = 0;
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    for (let i = 0; i < frames; i++) {
      let x = 0;
      for (const c of channels) x += c[i];
      x /= channels.length;
      this.history[this.filled++ % this.width] = x;
      let mean = 0;
      for (let k = 0; k < this.width; k++) mean += this.history[k];
      mean /= this.width;
      // emit every output sample whose time falls between the previous input and this one
      while (this.pos <= this.seen) {
        const frac = 1 - (this.seen - this.pos);
        this.push(this.prev + (mean - this.prev) * frac);
        this.pos += this.ratio;
      }
      this.prev = mean;
      this.seen += 1;
    }
    return true;
  }
}

registerProcessor('emoface-capture', CaptureProcessor);
