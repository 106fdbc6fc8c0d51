import type { SynthObject } from '../types.js';
import { board } from './board.js';
import { pills } from './pills.js';
import { tealight } from './tealight.js';

/** The synthetic products, one per VisA domain, by name. */
export const SYNTH_OBJECTS: Readonly<Record<string, SynthObject>> = { board, pills, tealight };
export const DEFAULT_SYNTH_OBJECTS: readonly string[] = ['board', 'pills', 'tealight'];
