#!/usr/bin/env node
// A fake of the docker CLI (28.x) for tests, over the same fake Docker host as the fake k3d (./docker-state.mjs).
// It emulates only what the bot (and the e2e script's tool check) runs, with Docker's own texts, streams and exit
// codes (docker/cli cli/command/network/remove.go, cli/command/volume/remove.go):
//   docker --version            docker info --format '{{.ServerVersion}}'
//   docker network rm NAME...   docker volume rm NAME...
//   docker network ls|volume ls [--filter label=K[=V]|name=SUBSTRING]... --format '{{.Name}}'
// Anything else fails loudly (exit 2) rather than pretend. FAKE_K3D_DOCKER_DOWN makes the daemon unreachable.
import { createHash } from 'node:crypto';
import { DOCKER_DOWN, dockerIsDown, dockerObjects } from './docker-state.mjs';

const stateDir = process.env.FAKE_K3D_STATE_DIR;
const argv = process.argv.slice(2);

/** Thrown for a command line this fake does not emulate. */
class NotEmulated extends Error {}

const containerId = (name) => createHash('sha256').update(name).digest('hex');

/** `network rm`: one line per name, the name on stdout or Docker's error on stderr; exit 1 if any failed. */
function networkRm(names) {
  const networks = dockerObjects(stateDir, 'networks');
  const clusters = dockerObjects(stateDir, 'clusters');
  let failed = false;
  for (const name of names) {
    const network = networks.read(name);
    let problem;
    if (dockerIsDown(stateDir)) problem = DOCKER_DOWN;
    else if (!network) problem = `Error response from daemon: network ${name} not found`;
    // Running containers hold endpoints in their network; created or stopped ones do not.
    else if (clusters.all().some((c) => `k3d-${c.name}` === name && c.running))
      problem = `Error response from daemon: error while removing network: network ${name} id ${network.id} has active endpoints`;
    if (problem) {
      process.stderr.write(`${problem}\n`);
      failed = true;
    } else {
      networks.remove(name);
      process.stdout.write(`${name}\n`);
    }
  }
  if (failed) process.stderr.write('exit status 1\n');
  return failed ? 1 : 0;
}

/** `volume rm`: names of removed volumes on stdout; the errors, joined, on stderr at the end; exit 1 if any. */
function volumeRm(names) {
  const volumes = dockerObjects(stateDir, 'volumes');
  const clusters = dockerObjects(stateDir, 'clusters');
  const errors = [];
  for (const name of names) {
    const users = clusters.all().filter((c) => `k3d-${c.name}-images` === name);
    if (dockerIsDown(stateDir)) errors.push(DOCKER_DOWN);
    else if (!volumes.read(name)) errors.push(`Error response from daemon: get ${name}: no such volume`);
    else if (users.length > 0)
      errors.push(
        `Error response from daemon: remove ${name}: volume is in use - [${users.map((c) => containerId(`k3d-${c.name}-server-0`)).join(', ')}]`,
      );
    else {
      volumes.remove(name);
      process.stdout.write(`${name}\n`);
    }
  }
  if (errors.length > 0) process.stderr.write(`${errors.join('\n')}\n`);
  return errors.length > 0 ? 1 : 0;
}

/** `network ls` / `volume ls` with label and name filters (ANDed), printing `{{.Name}}` sorted by name. */
function ls(kind, args) {
  const filters = [];
  let format;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s);
    const value = inline ?? args[++i];
    if ((flag === '--filter' || flag === '-f') && value !== undefined) filters.push(value);
    else if (flag === '--format' && value !== undefined) format = value;
    else throw new NotEmulated(`argument '${args[i]}'`);
  }
  if (format !== '{{.Name}}') throw new NotEmulated(`--format other than '{{.Name}}'`);
  if (dockerIsDown(stateDir)) {
    process.stderr.write(`${DOCKER_DOWN}\n`);
    return 1;
  }
  // The engine's own networks, which carry no labels.
  const builtIn = kind === 'networks' ? ['bridge', 'host', 'none'].map((name) => ({ name, labels: {} })) : [];
  const matches = (object, filter) => {
    const [key, value] = filter.split(/=(.*)/s);
    if (key === 'name') return object.name.includes(value ?? '');
    if (key !== 'label' || value === undefined) throw new NotEmulated(`--filter '${filter}'`);
    const [label, wanted] = value.split(/=(.*)/s);
    return label in object.labels && (wanted === undefined || object.labels[label] === wanted);
  };
  const names = [...builtIn, ...dockerObjects(stateDir, kind).all()]
    .filter((object) => filters.every((filter) => matches(object, filter)))
    .map((object) => object.name)
    .sort();
  process.stdout.write(names.map((name) => `${name}\n`).join(''));
  return 0;
}

function main() {
  if (!stateDir) {
    process.stderr.write('fake docker: FAKE_K3D_STATE_DIR is not set (see test/fakes/k3d/fake-k3d.ts)\n');
    return 1;
  }
  try {
    const [group, command, ...rest] = argv;
    if (group === '--version' && command === undefined) {
      process.stdout.write('Docker version 28.2.2, build e6534b4\n');
      return 0;
    }
    if (group === 'info') {
      if (argv.length !== 3 || command !== '--format' || rest[0] !== '{{.ServerVersion}}')
        throw new NotEmulated('these arguments');
      if (dockerIsDown(stateDir)) {
        process.stdout.write('\n'); // the template over an empty answer
        process.stderr.write(`${DOCKER_DOWN}\n`);
        return 1;
      }
      process.stdout.write('28.2.2\n');
      return 0;
    }
    if (['network', 'volume'].includes(group) && ['rm', 'remove'].includes(command)) {
      if (rest.length === 0 || rest.some((a) => a.startsWith('-'))) throw new NotEmulated('these arguments');
      return group === 'network' ? networkRm(rest) : volumeRm(rest);
    }
    if (['network', 'volume'].includes(group) && ['ls', 'list'].includes(command))
      return ls(`${group}s`, rest);
    throw new NotEmulated('this command');
  } catch (e) {
    if (!(e instanceof NotEmulated)) throw e;
    process.stderr.write(`fake docker: ${e.message} of 'docker ${argv.join(' ')}' is not emulated\n`);
    return 2;
  }
}

process.exitCode = main();
