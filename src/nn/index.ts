export { Module, type StateValue, type HostValues } from './module.js';
export { Conv2d, type Conv2dConfig } from './layers/conv2d.js';
export { BatchNorm2d } from './layers/batch-norm2d.js';
export { Linear } from './layers/linear.js';
export { ReLU, LeakyReLU, Sigmoid, Identity } from './layers/activations.js';
export { MaxPool2d, AdaptiveAvgPool2d, Flatten } from './layers/pooling.js';
export { Dropout } from './layers/dropout.js';
export { Sequential } from './layers/sequential.js';
