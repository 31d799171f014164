/** Removes a test's keys from a Redis (the shared one unless a port is given). */
import { deletePrefix, testRedis } from '../../helpers/redis.js';

export async function deleteKeys(prefix: string, port?: number): Promise<void> {
  const client = port === undefined ? testRedis() : testRedis(port);
  try {
    await deletePrefix(client, prefix);
  } finally {
    client.disconnect();
  }
}
