// whatwg-url for mongodb-connection-string-url, which takes only its URL class: the runtime's own URL implements the same
// WHATWG URL Standard. The package's pure-JavaScript copy, with the tr46 IDNA table it loads, cost 3 ms and 8 MB of every start.
'use strict';
module.exports = { URL: globalThis.URL, URLSearchParams: globalThis.URLSearchParams };
