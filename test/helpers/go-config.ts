/** The environment the IAM installer gives the Go project's iam-watcher.yaml (its `${VAR}`s). */

/** The installer's variables for the local servers (root without a password, Redis without one). */
export function installerEnv(database: string, logDir: string): Record<string, string> {
  return {
    MARIADB_HOST: '127.0.0.1:3306',
    MARIADB_USERNAME: 'root',
    MARIADB_PASSWORD: '',
    MARIADB_DATABASE: database,
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: '6379',
    REDIS_PASSWORD: '',
    IAM_LOG_DIR: logDir,
  };
}
