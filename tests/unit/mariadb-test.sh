#!/bin/sh
# mariadb-test.sh - start or stop a private MariaDB for test-store.
#
#   tests/unit/mariadb-test.sh start DIR [PORT]   prints PM_TEST_MYSQL=...
#   tests/unit/mariadb-test.sh stop DIR
#
# The server runs as the calling user (root is fine) in DIR, listens on
# 127.0.0.1:PORT only (default 33061), with a socket and pid file in DIR,
# and gets a database "pmtest" and a user "pmtest" (password "pmtest").
# "stop" ends only the server whose pid is in DIR/mariadbd.pid.
set -eu

cmd=${1:-}
dir=${2:-}
port=${3:-33061}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
fi

case "$cmd" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ ! -d "$dir/data/mysql" ]; then
        mariadb-install-db --no-defaults --datadir="$dir/data" \
            --user="$(id -un)" --auth-root-authentication-method=normal \
            >"$dir/install.log" 2>&1
    fi
    mariadbd --no-defaults --datadir="$dir/data" --user="$(id -un)" \
        --bind-address=127.0.0.1 --port="$port" \
        --socket="$dir/mariadbd.sock" --pid-file="$dir/mariadbd.pid" \
        --log-error="$dir/mariadbd.err" --skip-name-resolve \
        --innodb-buffer-pool-size=32M >/dev/null 2>&1 &
    i=0
    while ! mariadb-admin --no-defaults --socket="$dir/mariadbd.sock" \
            -uroot ping >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "$0: mariadbd did not start; see $dir/mariadbd.err" >&2
            exit 1
        fi
        sleep 0.2
    done
    mariadb --no-defaults --socket="$dir/mariadbd.sock" -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS pmtest;
CREATE USER IF NOT EXISTS 'pmtest'@'127.0.0.1' IDENTIFIED BY 'pmtest';
GRANT ALL ON pmtest.* TO 'pmtest'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL
    echo "PM_TEST_MYSQL=127.0.0.1:$port:pmtest:pmtest:pmtest"
    ;;
stop)
    if [ -f "$dir/mariadbd.pid" ]; then
        pid=$(cat "$dir/mariadbd.pid")
        kill "$pid" 2>/dev/null || :
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            i=$((i + 1))
            sleep 0.2
        done
    fi
    ;;
*)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
