#!/usr/bin/env bash
# Creates the local `iam` database for `make run` when it does not exist: the IAM schema, a few
# sample rows, and the least-privilege account `iam` (password from IAM_MYSQL_PASSWORD) that
# configs/iam-watcher.yaml uses.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${IAM_MYSQL_PASSWORD:?set IAM_MYSQL_PASSWORD}"
mysql_root() { mysql --protocol=TCP -h127.0.0.1 -P3306 -uroot "$@"; }

if [ -z "$(mysql_root -N -e "SHOW DATABASES LIKE 'iam'")" ]; then
  echo "iam-db: creating database iam with sample rows" >&2
  mysql_root -e 'CREATE DATABASE iam CHARACTER SET utf8'
  mysql_root iam < deploy/sql/iam-schema.sql
  mysql_root iam < deploy/sql/iam-sample-data.sql
fi
pw=${IAM_MYSQL_PASSWORD//\'/\'\'}
mysql_root <<SQL
CREATE USER IF NOT EXISTS 'iam'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS 'iam'@'localhost' IDENTIFIED BY '$pw';
ALTER USER 'iam'@'127.0.0.1' IDENTIFIED BY '$pw';
ALTER USER 'iam'@'localhost' IDENTIFIED BY '$pw';
SQL
sed -e "s/'iam'@'%'/'iam'@'127.0.0.1'/g" deploy/mysql-grants.sql | mysql_root
sed -e "s/'iam'@'%'/'iam'@'localhost'/g" deploy/mysql-grants.sql | mysql_root
