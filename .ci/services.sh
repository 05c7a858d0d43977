# shellcheck shell=bash
# Database servers for the storage tests: PostgreSQL and MariaDB on 127.0.0.1, one test database and user each.
# Sourced by .ci/run as root after `pip install`; exports the URLs the server tests read, and
# OPTGUI_REQUIRE_SERVERS=1 so that those tests fail instead of skipping when a server is missing.
# Safe to source again: every step checks before it acts.

OPTGUI_DB_NAME=optgui_test
OPTGUI_DB_USER=optgui
OPTGUI_DB_PASSWORD=optgui-test-only

export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null || ! command -v mariadb-admin >/dev/null; then
  apt-get update -qq
  # Debian's packages create and start nothing we rely on in a container: clusters are handled below.
  apt-get install -y -qq --no-install-recommends postgresql mariadb-server >/dev/null
fi
python3 -m pip install -q 'psycopg[binary]' PyMySQL

# --- PostgreSQL: started as its own user through Debian's cluster wrapper.
OPTGUI_PG_VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if [ -z "$(pg_lsclusters -h 2>/dev/null | awk -v v="$OPTGUI_PG_VERSION" '$1 == v && $2 == "main"')" ]; then
  pg_createcluster "$OPTGUI_PG_VERSION" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$OPTGUI_PG_VERSION" '$1 == v && $2 == "main"' | grep -q online; then
  pg_ctlcluster "$OPTGUI_PG_VERSION" main start
fi
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.5
done
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$OPTGUI_DB_USER') THEN
    CREATE ROLE $OPTGUI_DB_USER LOGIN PASSWORD '$OPTGUI_DB_PASSWORD';
  END IF;
END \$\$;
SQL
if [ -z "$(runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$OPTGUI_DB_NAME'")" ]; then
  runuser -u postgres -- createdb -O "$OPTGUI_DB_USER" "$OPTGUI_DB_NAME"
fi
export OPTGUI_TEST_POSTGRES_URL="postgresql+psycopg://$OPTGUI_DB_USER:$OPTGUI_DB_PASSWORD@127.0.0.1:5432/$OPTGUI_DB_NAME"

# --- MariaDB: mysqld_safe runs the server as the mysql user; only on 127.0.0.1.
mkdir -p /run/mysqld
chown mysql:mysql /run/mysqld
if ! mariadb-admin --protocol=socket ping >/dev/null 2>&1; then
  (mysqld_safe --bind-address=127.0.0.1 --port=3306 >/dev/null 2>&1 &)
  for _ in $(seq 1 120); do
    mariadb-admin --protocol=socket ping >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
mariadb --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS $OPTGUI_DB_NAME CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$OPTGUI_DB_USER'@'127.0.0.1' IDENTIFIED BY '$OPTGUI_DB_PASSWORD';
CREATE USER IF NOT EXISTS '$OPTGUI_DB_USER'@'localhost' IDENTIFIED BY '$OPTGUI_DB_PASSWORD';
GRANT ALL PRIVILEGES ON $OPTGUI_DB_NAME.* TO '$OPTGUI_DB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON $OPTGUI_DB_NAME.* TO '$OPTGUI_DB_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
export OPTGUI_TEST_MYSQL_URL="mysql+pymysql://$OPTGUI_DB_USER:$OPTGUI_DB_PASSWORD@127.0.0.1:3306/$OPTGUI_DB_NAME"

export OPTGUI_REQUIRE_SERVERS=1
