// @mongodb-js/saslprep, loaded on its first call. The real module decompresses its Unicode tables at load (node:zlib included),
// 6 ms and 16 MB of every start; the driver calls it only to log in with SCRAM-SHA-256 and a password.
'use strict';
let real;
function saslprep(input, opts) {
  real ??= require('@mongodb-js/saslprep');
  return real(input, opts);
}
saslprep.saslprep = saslprep;
saslprep.default = saslprep;
module.exports = saslprep;
