#!/usr/bin/env bash
# Installs the Debian packages the tests need (Chromium for the browser tests, Dovecot for the
# IMAP tests, poppler for looking at PDFs, nginx for checking deploy/nginx.conf), only when one is
# missing. Services are not started by the install (the tests start their own on loopback).
set -euo pipefail
packages=(chromium dovecot-imapd fonts-dejavu-core poppler-utils nginx-light)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then   # keep apt from starting nginx/dovecot on their ports
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy"
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  if [ -n "$policy" ]; then $SUDO rm -f "$policy"; fi
fi
