#!/bin/sh
# Install the services and browsers the test suite drives, when they are missing.
set -u
apt_updated=""
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
        echo "system-deps: cannot install $* (needs root and apt-get); tests needing it will say why they skip" >&2
        return 1
    fi
    [ -n "$apt_updated" ] || { apt-get update -qq && apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

if ! bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672' 2>/dev/null; then
    command -v rabbitmq-server >/dev/null 2>&1 || apt_install rabbitmq-server
    if command -v rabbitmq-server >/dev/null 2>&1; then
        rabbitmq-server -detached
        i=0
        until bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672' 2>/dev/null || [ $i -ge 60 ]; do sleep 1; i=$((i + 1)); done
    fi
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    apt_install chromium chromium-driver
fi
exit 0
