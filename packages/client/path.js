// The absolute path of the built browser bundle.
import { fileURLToPath } from 'node:url';
export const bundlePath = fileURLToPath(new URL('./dist/inlet-client.js', import.meta.url));
