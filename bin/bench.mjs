#!/usr/bin/env node
// Runs the benchmark (bench/bench.ts) with the TypeScript loader.
import { register } from 'tsx/esm/api';

register();
await import('../bench/bench.ts');
