-- Sample IAM data for `make run` and manual tries of the watchers, on a database created from
-- iam-schema.sql. Times are relative to the database clock, so the file stays useful whenever it is
-- loaded. Passwords are placeholders, not hashes of anything. Load: `mysql iam < iam-sample-data.sql`.
--
-- With watcher.task.max-inactive-days: 90, the task watcher disables bob and carol (never logged in,
-- created long ago); admin is an inactive administrator and stays enabled while exclude-admins is
-- true; dave is new and frank is active. The clean watcher (max-reserve-days: 180) deletes the audit
-- row of policy 90. cleansecret (max-expired-days: 7) deletes bob's `old-ci` secret only.

INSERT INTO `user` (`id`, `name`, `status`, `nickname`, `password`, `email`, `phone`, `isAdmin`,
                    `loginedAt`, `createdAt`) VALUES
  (1, 'admin', 1, 'admin', 'placeholder-not-a-hash', 'admin@iam.example', NULL, 1,
      NOW() - INTERVAL 400 DAY, NOW() - INTERVAL 900 DAY),
  (2, 'alice', 1, 'alice', 'placeholder-not-a-hash', 'alice@iam.example', NULL, 0,
      NOW() - INTERVAL 2 DAY, NOW() - INTERVAL 500 DAY),
  (3, 'bob', 1, 'bob', 'placeholder-not-a-hash', 'bob@iam.example', NULL, 0,
      NOW() - INTERVAL 200 DAY, NOW() - INTERVAL 600 DAY),
  (4, 'carol', 1, 'carol', 'placeholder-not-a-hash', 'carol@iam.example', NULL, 0,
      NULL, NOW() - INTERVAL 365 DAY),
  (5, 'dave', 1, 'dave', 'placeholder-not-a-hash', 'dave@iam.example', NULL, 0,
      NULL, NOW() - INTERVAL 1 DAY),
  (6, 'erin', 0, 'erin', 'placeholder-not-a-hash', 'erin@iam.example', NULL, 0,
      NOW() - INTERVAL 300 DAY, NOW() - INTERVAL 700 DAY),
  (7, 'frank', 1, 'frank', 'placeholder-not-a-hash', 'frank@iam.example', NULL, 0,
      NOW() - INTERVAL 10 DAY, NOW() - INTERVAL 30 DAY);

INSERT INTO `policy` (`id`, `name`, `username`, `policyShadow`, `createdAt`) VALUES
  (10, 'read-all', 'alice', '{"effect":"allow","actions":["get"],"resources":["*"]}', NOW() - INTERVAL 90 DAY),
  (11, 'deploy', 'bob', '{"effect":"allow","actions":["post"],"resources":["deploy:*"]}', NOW() - INTERVAL 80 DAY),
  (12, 'tmp', 'frank', '{"effect":"deny","actions":["delete"],"resources":["*"]}', NOW() - INTERVAL 5 DAY);

-- Deleting a policy fires policy_BEFORE_DELETE: policy 12 gets an audit row deleted now.
DELETE FROM `policy` WHERE `id` = 12;

-- An audit row of a policy deleted long ago (as the trigger would have written it then).
INSERT INTO `policy_audit` VALUES
  (90, NULL, 'legacy', 'bob', '{"effect":"allow","actions":["*"],"resources":["*"]}', NULL,
   NOW() - INTERVAL 400 DAY, NOW() - INTERVAL 400 DAY, NOW() - INTERVAL 200 DAY);

INSERT INTO `secret` (`name`, `username`, `secretID`, `secretKey`, `expires`, `description`) VALUES
  ('forever', 'alice', 'sample-secret-id-forever', 'sample-key-not-real-1', 0, 'never expires'),
  ('next-year', 'alice', 'sample-secret-id-next-year', 'sample-key-not-real-2',
   UNIX_TIMESTAMP() + 365 * 86400, 'valid for a year'),
  ('yesterday', 'frank', 'sample-secret-id-yesterday', 'sample-key-not-real-3',
   UNIX_TIMESTAMP() - 86400, 'expired yesterday: kept for max-expired-days'),
  ('old-ci', 'bob', 'sample-secret-id-old-ci', 'sample-key-not-real-4',
   UNIX_TIMESTAMP() - 30 * 86400, 'expired a month ago');
