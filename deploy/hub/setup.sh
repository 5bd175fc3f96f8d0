#!/usr/bin/env bash
# The course's JupyterHub on one fresh Debian 12 machine, as root, from a checkout of the course:
#
#     sudo deploy/hub/setup.sh INSTRUCTOR [STUDENT ...]
#
# installs Debian's Python, Node.js and bubblewrap, the hub environment in /opt/cnn-course/env
# (the lock's versions; the course library as a built wheel), the proxy (the npm versions of
# package-lock.json), makes the users (each gets a password to set: `passwd NAME`), the exchange
# /srv/nbgrader/exchange, the instructor's private course folder ~INSTRUCTOR/cnn-cv, and starts
# the hub as the systemd service cnn-course-hub on http://127.0.0.1:8000 (put TLS in front).
# Run it again to add students. book/instructors.md, section 9, walks through it.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root" >&2; exit 2; }
[ $# -ge 1 ] || { echo "usage: setup.sh INSTRUCTOR [STUDENT ...]" >&2; exit 2; }
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PREFIX="${CVLIB_HUB_PREFIX:-/opt/cnn-course}"
EXCHANGE="${CVLIB_HUB_EXCHANGE:-/srv/nbgrader/exchange}"
instructor="$1"; shift

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv nodejs npm bubblewrap

mkdir -p "$PREFIX/etc" "$PREFIX/proxy"
test -x "$PREFIX/env/bin/python" || python3 -m venv "$PREFIX/env"
"$PREFIX/env/bin/pip" install --quiet -r "$HERE/requirements.txt"
cp "$HERE/package.json" "$HERE/package-lock.json" "$PREFIX/proxy/"
npm ci --prefix "$PREFIX/proxy" --omit=dev --no-audit --no-fund
cp "$HERE/jupyterhub_config.py" "$PREFIX/etc/"

configure() { "$PREFIX/env/bin/python" "$HERE/configure.py" "$@" --prefix "$PREFIX"; }
configure environment --exchange "$EXCHANGE"
configure wheel --repo "$REPO"
for user in "$instructor" "$@"; do
    id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
done
configure instructor "$instructor" --repo "$REPO"
for user in "$@"; do configure student "$user"; done

cat > /etc/systemd/system/cnn-course-hub.service <<UNIT
[Unit]
Description=JupyterHub of the CNN course
After=network.target

[Service]
User=root
WorkingDirectory=$PREFIX/state
ExecStart=$PREFIX/env/bin/jupyterhub -f $PREFIX/etc/jupyterhub_config.py
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$PREFIX/state" && chmod 700 "$PREFIX/state"
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now cnn-course-hub
    systemctl restart cnn-course-hub   # a new user list
else
    echo "no systemd here: start the hub with"
    echo "  cd $PREFIX/state && $PREFIX/env/bin/jupyterhub -f $PREFIX/etc/jupyterhub_config.py"
fi
echo "hub: http://127.0.0.1:8000 (set passwords: passwd NAME); course folder: ~$instructor/cnn-cv"
