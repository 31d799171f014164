-- Least privileges for the iam-watcher account on the IAM database. Create the account first
-- (CREATE USER 'iam'@'%' IDENTIFIED BY '...'); the host part may be narrowed to the daemon's hosts.
--   task:        reads user activity, flips `status` (SELECT ... FOR UPDATE needs SELECT + UPDATE)
--   clean:       reads and deletes old policy_audit rows
--   cleansecret: reads and deletes expired secrets
--   userinit:    the example status watcher, off by default: its grant is in sql/user-init.sql with
--                its table (a grant on a table that does not exist fails)
-- A new watcher adds the grants of its statements here (test/integration/grants.test.ts runs every
-- watcher as this account). Setting and restoring a session's isolation level needs no grant.
GRANT SELECT, UPDATE (`status`) ON `iam`.`user` TO 'iam'@'%';
GRANT SELECT, DELETE ON `iam`.`policy_audit` TO 'iam'@'%';
GRANT SELECT, DELETE ON `iam`.`secret` TO 'iam'@'%';
