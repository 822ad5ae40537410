import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Vault } from '../../core/ports.js';
import { StartupError } from '../../lib/startup-error.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_FILE_NAME = 'encryption.key';

/** AES-256-GCM with a random 96-bit IV per message; the output is `v1:<base64 iv|tag|ciphertext>`. */
export function createVault(key: Buffer): Vault {
  if (key.length !== 32) throw new Error(`an encryption key must be 32 bytes, got ${key.length}`);
  return {
    encrypt(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    decrypt(ciphertext) {
      const [version, payload] = ciphertext.split(':', 2);
      if (version !== VERSION || !payload) throw new Error('not a ciphertext this vault wrote');
      const raw = Buffer.from(payload, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}

/** What the database holds that a key must open, so a key that cannot is refused at start. */
export interface StoredKubeconfigs {
  /** One kubeconfig ciphertext from the database, if it holds any. */
  sample: string | undefined;
  databaseFile: string;
}

/**
 * The key from SANDBOX_ENCRYPTION_KEY when set; otherwise the key file in DATA_DIR, generated on first start
 * with mode 0600. A key file readable by others is tightened, since it guards every stored kubeconfig. A key
 * that does not open the kubeconfigs already stored (a key file lost or left out of a restore, the variable
 * dropped) is refused, and none is generated over them: each owner would get an error for their kubeconfig,
 * and the ones stored from then on could not be read with the old key once it was back.
 */
export function loadEncryptionKey(
  dataDir: string,
  configuredKey: Buffer | undefined,
  stored: StoredKubeconfigs,
): Buffer {
  const file = path.join(dataDir, KEY_FILE_NAME);
  if (configuredKey) return opening(stored, configuredKey, 'SANDBOX_ENCRYPTION_KEY');
  if (existsSync(file)) return opening(stored, readKeyFile(file), file);
  if (stored.sample !== undefined) {
    throw new StartupError(
      `The encryption key ${file} is missing, but ${stored.databaseFile} holds kubeconfigs encrypted with it: restore it from a backup, or set SANDBOX_ENCRYPTION_KEY to it. ${ifLost(stored)}`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  // Written whole under a name of its own, then linked into place (which fails if the file exists): a second
  // process generating a key at the same moment either wins, and this one reads its key, or loses.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, file);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readKeyFile(file);
  } finally {
    rmSync(draft, { force: true });
  }
}

function opening(stored: StoredKubeconfigs, key: Buffer, source: string): Buffer {
  if (stored.sample === undefined) return key;
  try {
    createVault(key).decrypt(stored.sample);
    return key;
  } catch {
    throw new StartupError(
      `The encryption key (${source}) does not open the kubeconfigs stored in ${stored.databaseFile}: they were encrypted with another key. Restore that key (the key file from a backup, or SANDBOX_ENCRYPTION_KEY). ${ifLost(stored)}`,
    );
  }
}

const ifLost = ({ databaseFile }: StoredKubeconfigs) =>
  `If it is lost, clear them with sqlite3 '${databaseFile}' "UPDATE sandboxes SET kubeconfig_enc = NULL" and start again: the bot reads the kubeconfigs of the clusters still running from k3d again.`;

function readKeyFile(file: string): Buffer {
  let text: string;
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new StartupError(
      `Cannot read the encryption key ${file} (${(error as Error).message}): it must be a file this user can read; restore it from a backup`,
    );
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32)
    throw new StartupError(`${file} does not hold a base64 32-byte key; restore it from a backup`);
  return key;
}
