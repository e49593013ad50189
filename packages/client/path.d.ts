/** The absolute path of the built browser bundle (`dist/inlet-client.js`). */
export declare const bundlePath: string;
