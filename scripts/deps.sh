#!/usr/bin/env bash
# Installs the Debian 12 packages Portico builds and tests with, if any is missing.
# Run as root (or with sudo available). Idempotent: does nothing when all are present.
# Packages are installed without their Recommends, so every package a feature needs is named
# here, even where Debian only recommends it (swaks needs libnet-ssleay-perl for STARTTLS).
# The web chat's tests drive the page in headless Chromium (chromium, chromium-driver and
# python3-selenium) and speak XMPP over WebSocket with python3-websockets.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache clang-format
  libboost1.81-dev libssl-dev openssl libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev libgsasl-dev libcrypt-dev
  libgmime-3.0-dev libunbound-dev libldap-dev libexpat1-dev prometheus-cpp-dev zlib1g-dev
  python3 swaks libnet-ssleay-perl fetchmail ldap-utils python3-ldap3 isync
  postfix unbound python3-aiosmtpd rspamd slapd python3-slixmpp prosody
  python3-websockets chromium chromium-driver python3-selenium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "installing: ${missing[*]}"
# Servers used by the tests and benchmarks (postfix for smtp-sink and smtp-source, unbound as a
# DNS server on a loopback port, rspamd as the spam filter, slapd as the LDAP peer, prosody as the
# XMPP peer) run as private instances started by the tests; their own system services are not set
# up ("No configuration") nor started (a temporary policy-rc.d, when the machine has none).
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  policy=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
