/**
 * A classic Jupyter Notebook 6 server on loopback for the live-browser test: started from the
 * repository root on a free port with a token, stopped (with its kernels) by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { JUPYTER, ROOT } from '../../support/notebook';

export interface NotebookServer {
  url: string;
  port: number;
  token: string;
  /** everything the server printed, for failure messages */
  log: () => string;
  stop: () => Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(url: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`jupyter notebook exited (${child.exitCode}):\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`jupyter notebook did not answer at ${url}:\n${log()}`);
}

export async function startNotebookServer(): Promise<NotebookServer> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  let out = '';
  const child = spawn(JUPYTER, ['notebook', '--no-browser', `--NotebookApp.token=${token}`, `--port=${port}`,
    '--ip=127.0.0.1', '--port-retries=0', '--NotebookApp.open_browser=False',
    // CI containers often run as root, which the server refuses without this flag
    ...(process.getuid?.() === 0 ? ['--allow-root'] : [])], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
  });
  child.stdout?.on('data', (d) => { out += String(d); });
  child.stderr?.on('data', (d) => { out += String(d); });
  const url = `http://127.0.0.1:${port}`;
  const log = () => out;
  await waitUntilUp(`${url}/api/status?token=${token}`, child, log, 30_000);
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM'); // the server shuts its kernels down on SIGTERM
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { url, port, token, log, stop };
}
