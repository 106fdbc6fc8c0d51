// Reading a 64 MiB tensor back into JS with data() (always a copy, see native/src/addon.cc
// ToData): contiguous, transposed and float16 sources, and a small tensor for the fixed cost.
// Prints median and minimum milliseconds. --device cpu|cuda (default cpu): where the tensors
// live (on CUDA each read includes the copy to the host, which waits for the device).
import { parseArgs } from 'node:util';
import * as T from '../src/tensor/index.js';
import { benchDevice, useDevice } from './lib/device.js';

const device = benchDevice(parseArgs({ options: { device: { type: 'string' } } }).values.device);
useDevice(device);

function time(label: string, reps: number, read: () => number): void {
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    if (!(read() > 0)) throw new Error('empty read');
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((x, y) => x - y);
  console.log(`${label.padEnd(40)} median ${ms[ms.length >> 1]!.toFixed(3).padStart(9)} ms   min ${ms[0]!.toFixed(3).padStart(9)} ms`);
}

const big = T.randn([16, 1024, 1024]); // 16 Mi float32 = 64 MiB
const transposed = T.transpose(big, 1, 2);
const half = T.toDtype(big, 'float16'); // read back as 64 MiB of float32
const small = T.randn([1024]);
console.log(`threads ${T.getNumThreads()}, device ${device}`);
time('data() 64 MiB contiguous float32', 15, () => big.data().length);
time('data() 64 MiB transposed float32', 7, () => transposed.data().length);
time('data() float16 -> 64 MiB float32', 15, () => half.data().length);
time('data() 4 KiB', 5000, () => small.data().length);
