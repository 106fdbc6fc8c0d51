import { bottleneckParityTests } from './bottleneck-parity.js';

bottleneckParityTests('wide_resnet50_2');
