#!/bin/sh
# Installs Debian's Dovecot IMAP server for the ticket tests (tests/dovecot_server.py starts its
# own instance on loopback, as a non-root user, with a configuration in a temporary folder).
# Idempotent: does nothing when dovecot is already installed. Packages: dovecot-imapd (which
# pulls dovecot-core). The system-wide Dovecot service that the package may start is not used.
set -eu
if command -v dovecot >/dev/null 2>&1 && [ -x /usr/lib/dovecot/imap ]; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends dovecot-imapd dovecot-core
# Not needed by the tests; keep the machine's own Dovecot from listening on 143/993.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now dovecot >/dev/null 2>&1 || true
fi
