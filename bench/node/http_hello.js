// Node.js peer: HTTP hello server (the http module), for wrk.
'use strict';
const http = require('http');
const body = 'Hello, world\n';
http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
}).listen(Number(process.argv[2]), '127.0.0.1');
