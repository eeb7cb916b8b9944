#!/usr/bin/node
// A Node.js executable program for the snapshot benchmark: Node's own http module (no Express),
// listening on port 8080 as executables must.
'use strict';
const http = require('http');

http.createServer((req, res) => {
  const body = JSON.stringify({ message: 'Hello from Kiln', node: process.version, path: req.url });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}).listen(8080, '0.0.0.0');
