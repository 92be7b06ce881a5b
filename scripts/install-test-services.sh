#!/usr/bin/env bash
# The servers the test suite starts for real: PostgreSQL, Redis and RabbitMQ (Debian packages),
# the Chromium that the web chat's browser tests drive, eSpeak NG for its speech, npm for the
# console's libraries, and
# docker-compose and nginx, which check the deployment files.
# Installs only what is missing; the tests start and stop their own instances in temporary
# folders, so the system services are not used (and not left running by this script).
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/sbin/rabbitmq-server ] || need+=(rabbitmq-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# the deployment files' checks: `docker-compose config` and `nginx -t`
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
# the web chat's spoken answers (and the recordings its speech tests play to Chromium)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
# npm installs the console's front-end libraries (htmx) at their pinned versions
command -v npm >/dev/null 2>&1 || need+=(npm)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "installing ${need[*]} for the tests"
# No service is started by the packages' scripts: the tests run their own.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
$SUDO apt-get update -qq
# docker-compose only reads its files here: not the Docker engine it recommends.
plain=() compose=()
for package in "${need[@]}"; do
  if [ "$package" = docker-compose ]; then compose+=("$package"); else plain+=("$package"); fi
done
if [ ${#plain[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${plain[@]}" >/dev/null
fi
if [ ${#compose[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${compose[@]}" >/dev/null
fi
$SUDO rm -f /usr/sbin/policy-rc.d
