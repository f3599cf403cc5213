// Runs under Node (its http.Agent is the client behaviour under test): N keep-alive connections send requests back to back
// until told to stop on stdin, then print what happened as JSON; `warm` on stderr after the first 50 answers. A request that fails on a reused connection is a request
// the server lost; one refused on a new connection was refused cleanly.
import http from 'node:http';

const [url, connections = '8'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(connections) });
const counts = { ok: 0, saidClose: 0, lostOnReused: 0, refusedOnNew: 0, otherErrors: {} };
let stop = false;
const WARM = 50;
process.stdin.on('data', () => (stop = true));

const once = () =>
  new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      if (res.headers.connection === 'close') counts.saidClose++;
      res.resume();
      res.on('end', () => resolve(true));
      res.on('error', () => resolve(false));
    });
    req.on('error', (err) => {
      if (req.reusedSocket) counts.lostOnReused++;
      else if (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET') counts.refusedOnNew++;
      else counts.otherErrors[err.code] = (counts.otherErrors[err.code] ?? 0) + 1;
      resolve(false);
    });
  });

const loop = async () => {
  while (!stop)
    if (await once()) {
      // Says so once the connections are warm and in use, so a test signals the server mid-traffic however busy the machine.
      if (++counts.ok === WARM) process.stderr.write('warm\n');
    } else await new Promise((r) => setTimeout(r, 5));
};
await Promise.all(Array.from({ length: Number(connections) }, loop));
console.log(JSON.stringify(counts));
