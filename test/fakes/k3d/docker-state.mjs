// The fake Docker host shared by the fake `k3d` (fake-k3d.mjs) and the fake `docker` (fake-docker.mjs): what a
// Docker engine would hold, as JSON files under FAKE_K3D_STATE_DIR. Clusters (their containers) live in
// `clusters/`, networks in `networks/`, volumes in `volumes/`, one file per object named after it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const DOCKER_DOWN =
  'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';

export function writeFileAtomic(file, text) {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  }
}

/** One kind of Docker object (`clusters`, `networks` or `volumes`): `{ name, ... }` records by name. */
export function dockerObjects(stateDir, kind) {
  const dir = path.join(stateDir, kind);
  const file = (name) => path.join(dir, `${encodeURIComponent(name)}.json`);
  fs.mkdirSync(dir, { recursive: true });
  const names = () =>
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => decodeURIComponent(f.slice(0, -'.json'.length)))
      .sort();
  return {
    read: (name) => readJson(file(name)),
    save: (object) => writeFileAtomic(file(object.name), `${JSON.stringify(object, null, 2)}\n`),
    remove: (name) => fs.rmSync(file(name), { force: true }),
    names,
    all: () =>
      names()
        .map((name) => readJson(file(name)))
        .filter(Boolean),
  };
}

/** FAKE_K3D_DOCKER_DOWN, from knobs.json or else the environment (the knobs of fake-k3d.mjs). */
export function dockerIsDown(stateDir, env = process.env) {
  const knobs = readJson(path.join(stateDir, 'knobs.json')) ?? {};
  const value = 'FAKE_K3D_DOCKER_DOWN' in knobs ? knobs.FAKE_K3D_DOCKER_DOWN : env.FAKE_K3D_DOCKER_DOWN;
  return value !== null && /^(1|t|true)$/i.test(String(value ?? ''));
}
