// `node --import ./test/fuzz/register-ts.mjs …` runs Inlet's TypeScript sources (see ts-hooks.mjs).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
