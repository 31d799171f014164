-- The table of the example status watcher `userinit` (watcher.userinit.*, off by default).
-- A row asks for a user's initialisation: it is inserted `pending`; the watcher finds the user in the
-- IAM `user` table, records it, and sets the row `normal` (or `failed` after max-attempts).
-- The daemon never creates it itself. When you enable the watcher, give the daemon's account:
--   GRANT SELECT, UPDATE (`status`, `userId`, `initializedAt`) ON `iam`.`user_init` TO 'iam'@'%';
-- (the handler reads `user`, which mysql-grants.sql already allows). Row claims, attempts and retry
-- times live in Redis: the table needs no column for them.
CREATE TABLE IF NOT EXISTS `user_init` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `userName` varchar(45) NOT NULL,
  `status` varchar(16) NOT NULL DEFAULT 'pending' COMMENT 'pending -> normal | failed',
  `userId` bigint(20) unsigned DEFAULT NULL COMMENT 'the IAM user found, set by the watcher',
  `initializedAt` timestamp(3) NULL DEFAULT NULL,
  `createdAt` timestamp NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (`id`),
  KEY `idx_status_id` (`status`, `id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
