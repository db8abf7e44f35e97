// A request handler that cannot take its server down. A client may close its
// connection before its request is whole (its own time limit, a signal, a
// test that cuts it on purpose); reading such a request rejects, and an
// unhandled rejection ends a Node process. Here it ends only that request.
// Anything other than a closed connection is also written to stderr, so a
// fault in a test server shows in its log instead of as a dead port.
'use strict';
function guard(handler) {
  return (req, res) => {
    Promise.resolve().then(() => handler(req, res)).catch((e) => {
      const closed = e && (e.code === 'ECONNRESET' || e.message === 'aborted');
      if (!closed) process.stderr.write(`${new Date().toISOString()} request ${req.method} ${req.url}: ${e && e.stack || e}\n`);
      if (!closed && !res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'text/plain', Connection: 'close' });
        res.end(`test server: ${e && e.message}\n`);
      } else {
        req.socket.destroy();
      }
    });
  };
}
module.exports = { guard };
