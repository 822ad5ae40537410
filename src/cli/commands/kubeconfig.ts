import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiClient } from '../api-client.js';
import { type CliCommand, requirePositional, stringOption } from '../cli-command.js';
import { toJson } from '../render.js';

/**
 * Writes a kubeconfig readable only by this user: a fresh 0600 file beside the target, renamed over it, so no
 * other user ever sees the content, not even for a moment. Returns the absolute path.
 */
export async function writeKubeconfig(file: string, kubeconfig: string): Promise<string> {
  const target = path.resolve(file);
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await writeFile(temp, kubeconfig, { mode: 0o600, flag: 'wx' });
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return target;
}

/** Fetches and writes the kubeconfig of `id` to `output` or ./kubeconfig-<name>.yaml. */
export async function saveKubeconfig(
  client: ApiClient,
  id: string,
  name: string | undefined,
  output?: string,
) {
  const sandboxName = name ?? (await client.status(id)).name;
  const { kubeconfig } = await client.kubeconfig(id);
  return writeKubeconfig(output ?? `kubeconfig-${sandboxName}.yaml`, kubeconfig);
}

export const kubeconfigCommand: CliCommand = {
  name: 'kubeconfig',
  summary: 'write the kubeconfig of an active sandbox to a 0600 file and print its path',
  args: '<sandbox_id|name>',
  help: ['-o, --output FILE  where to write it; default ./kubeconfig-<name>.yaml'],
  options: { output: { type: 'string', short: 'o' } },
  async run({ values, positionals, client, io, json }) {
    const id = await client.resolveId(requirePositional(positionals, 'the sandbox_id or name'));
    const file = await saveKubeconfig(client, id, undefined, stringOption(values, 'output'));
    io.stdout(json ? `${toJson({ sandbox_id: id, kubeconfig_path: file })}\n` : `${file}\n`);
    if (!json) io.stderr(`Use it with: export KUBECONFIG=${file}\n`);
    return 0;
  },
};
