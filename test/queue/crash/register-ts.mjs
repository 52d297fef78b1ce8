// `node --import ./register-ts.mjs script.ts`: installs ts-loader.mjs for the process.
import { register } from 'node:module';

register('./ts-loader.mjs', import.meta.url);
