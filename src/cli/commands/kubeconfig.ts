import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiClient } from '../api-client.js';
import { type CliCommand, requirePositional, stringOption, UsageError } from '../cli-command.js';
import { toJson } from '../render.js';

/**
 * Writes a kubeconfig readable only by this user: a fresh 0600 file beside the target, renamed over it, so no
 * other user ever sees the content, not even for a moment. Returns the absolute path.
 */
async function writeKubeconfig(file: string, kubeconfig: string): Promise<string> {
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

/** The file a kubeconfig is written to: `output`, or ./kubeconfig-<name>.yaml. */
export const kubeconfigFile = (name: string, output?: string): string => output ?? `kubeconfig-${name}.yaml`;

/** Throws a UsageError unless a kubeconfig could be written to `file` (its folder exists and is writable). */
export async function assertWritable(file: string): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  try {
    await access(folder, constants.W_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not writable';
    throw new UsageError(`cannot write the kubeconfig to ${file}: the folder ${folder} ${reason}`);
  }
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
  return writeKubeconfig(kubeconfigFile(sandboxName, output), kubeconfig);
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
