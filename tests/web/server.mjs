// Starts a real `trellis serve` for the browser tests, and can kill and restart it on the
// same port and database.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = process.env.TRELLIS_ROOT || path.resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const BIN = process.env.TRELLIS_BIN || path.join(ROOT, 'build-test/trellis');
export const ARTIFACTS = path.join(ROOT, 'tests/web/artifacts');

export async function startServer() {
  const dir = mkdtempSync(path.join(tmpdir(), 'trellis-web-'));
  const server = { dir, port: 0, proc: null };
  server.start = () => new Promise((resolve, reject) => {
    const args = ['serve', '--host', '127.0.0.1', '--port', String(server.port), '--database', path.join(dir, 'trellis.db'),
      '--dialogs', path.join(ROOT, 'dialogs'), '--web-root', path.join(ROOT, 'clients/web')];
    const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    server.proc = proc;
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error(`trellis serve did not start: ${out}${err}`)), 20000);
    proc.stderr.on('data', (d) => { err += d; if (err.length > 20000) err = err.slice(-10000); });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /http:\/\/[\d.]+:(\d+)\//.exec(out);
      if (m) { clearTimeout(timer); server.port = Number(m[1]); resolve(server); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); if (!server.port) reject(new Error(`trellis serve exited ${code}: ${err}`)); });
  });
  server.kill = () => new Promise((resolve) => {
    const proc = server.proc;
    if (!proc || proc.exitCode !== null) return resolve();
    proc.on('exit', () => resolve());
    proc.kill('SIGKILL');
  });
  server.restart = async () => { await server.kill(); await server.start(); };
  server.stop = async () => { await server.kill(); rmSync(dir, { recursive: true, force: true }); };
  server.url = (p = '/') => `http://127.0.0.1:${server.port}${p}`;
  await server.start();
  return server;
}

export async function launchBrowser() {
  // Playwright gives every launch a new, empty profile (--user-data-dir) of its own.
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}
