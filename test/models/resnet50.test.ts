import { bottleneckParityTests } from './bottleneck-parity.js';

bottleneckParityTests('resnet50');
