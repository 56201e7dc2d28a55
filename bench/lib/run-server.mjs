// Runs a language server module (one exporting `main`) given as the first argument, e.g. a copy
// of an older dist/bundle/server.mjs: `node bench/lib/run-server.mjs FILE --stdio` (bench/lsp.mjs --server).
import { pathToFileURL } from "node:url";

const { main } = await import(pathToFileURL(process.argv[2]).href);
main();
