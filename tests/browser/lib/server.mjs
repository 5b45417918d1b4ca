// A real `vaccount serve` for a browser test: its own empty data dir, a free port chosen by the
// server itself (it prints the address it bound), ready once `/healthz` answers, stopped by its
// PID (SIGTERM, then SIGKILL) by `stop()`, and killed at the latest when the test process exits.
// Its log (stderr) goes to target/test-logs/serve/browser.<name>.<pid>-<n>.log, where
// scripts/check_logs_pii.py looks for personal data after the run, as for the Rust suites.

import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { targetDir, vaccountBin } from './paths.mjs';

const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

let started = 0;

/**
 * Runs a `vaccount` setup command on a data dir (of a server not yet started, see `setup`
 * below) and returns the JSON it prints, as tests/support.rs `setup` does for the Rust suites.
 */
export function vaccount(dataDir, ...args) {
  const out = execFileSync(vaccountBin(), ['--data-dir', dataDir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out);
}

/**
 * Starts `vaccount serve` and resolves once it answers `/healthz`.
 *
 * @param {object} [options]
 * @param {string} [options.name] names the log file (letters, digits, `-`, `_`)
 * @param {boolean} [options.demo] `--demo` (default): a demo merchant, provider and pools
 * @param {string[]} [options.args] more `serve` arguments
 * @param {Record<string, string>} [options.env] more environment (e.g. `VACCOUNT_LOG`)
 * @param {(dataDir: string) => void} [options.setup] runs on the empty data dir before the start
 */
export async function startServer({ name = 'serve', demo = true, args = [], env = {}, setup } = {}) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vaccount-browser-'));
  setup?.(dataDir);
  const logDir = path.join(targetDir, 'test-logs', 'serve');
  mkdirSync(logDir, { recursive: true });
  const log = path.join(logDir, `browser.${name.replace(/[^A-Za-z0-9_-]/g, '_')}.${process.pid}-${started++}.log`);
  const logFd = openSync(log, 'w');
  const child = spawn(vaccountBin(), ['--data-dir', dataDir, 'serve', '--addr', '127.0.0.1:0', ...(demo ? ['--demo'] : []), ...args], {
    env: { ...process.env, VACCOUNT_LOG: 'info', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', logFd],
  });
  closeSync(logFd);
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => running.delete(child));

  const server = new Server(child, dataDir, log, exited);
  try {
    server.url = await server.waitForOutput(/^vaccount listening on (\S+)/m, 30_000).then((m) => m[1]);
    await waitForHealth(server.url, 10_000);
  } catch (error) {
    await server.stop();
    throw new Error(`${error.message}\n--- ${log}\n${readFileSync(log, 'utf8')}`);
  }
  return server;
}

class Server {
  constructor(child, dataDir, log, exited) {
    this.child = child;
    this.pid = child.pid;
    this.dataDir = dataDir;
    /** Path of the server's log file. */
    this.log = log;
    this.url = '';
    /** Everything it printed on stdout so far: the address, and `--demo`'s banner. */
    this.stdout = '';
    this.exited = exited;
    this.stopped = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      this.stdout += chunk;
    });
  }

  /** Resolves with the first match of `pattern` in stdout, waiting up to `ms` for it. */
  waitForOutput(pattern, ms = 10_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.stdout.match(pattern);
        if (match) {
          done();
          resolve(match);
        }
      };
      const onExit = (code, signal) => {
        // What it printed last may still be in the pipe.
        setImmediate(() => {
          check();
          done();
          reject(new Error(`serve exited (code ${code}, signal ${signal}) before printing ${pattern}`));
        });
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`serve did not print ${pattern} within ${ms} ms`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.child.stdout.off('data', check);
        this.child.off('exit', onExit);
      };
      this.child.stdout.on('data', check);
      this.child.once('exit', onExit);
      check();
      if (this.child.exitCode !== null || this.child.signalCode !== null) onExit(this.child.exitCode, this.child.signalCode);
    });
  }

  /** The demo merchant and provider (`demo.json` in the data dir). */
  demo() {
    return JSON.parse(readFileSync(path.join(this.dataDir, 'demo.json'), 'utf8'));
  }

  /** SIGTERM by PID, SIGKILL after 10 s; then the data dir is removed. Safe to call twice. */
  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      process.kill(this.pid, 'SIGTERM');
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(resolve, 10_000, 'timeout');
      });
      const first = await Promise.race([this.exited, timeout]);
      clearTimeout(timer);
      if (first === 'timeout') {
        process.kill(this.pid, 'SIGKILL');
        await this.exited;
      }
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

async function waitForHealth(url, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > until) throw new Error(`${url}/healthz did not answer within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
