#!/usr/bin/env bash
# Install the Debian packages the portal and its tests need, if any are missing.
#   libldap2-dev libsasl2-dev   build python-ldap
#   libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core   WeasyPrint and card fonts
#   fonts-droid-fallback        CJK glyphs for names on cards (Apache 2.0)
#   poppler-utils zbar-tools    the tests check PDFs and QR codes with them
#   slapd ldap-utils            the tests start an OpenLDAP server of their own
#   chromium                    the end-to-end tests drive it with Playwright (no browser download)
#   xmlsec1                     SAML sign-on checks the identity provider's signatures with it
#   wrk                         the load generator of the web benchmarks (the integration tests run them briefly)
# Packages named as arguments are installed too.
set -euo pipefail
packages=(libldap2-dev libsasl2-dev libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-droid-fallback
          poppler-utils zbar-tools slapd ldap-utils chromium xmlsec1 wrk "$@")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${missing[*]}"
if ! command -v apt-get >/dev/null; then
  echo "These packages are missing and apt-get is not available: ${missing[*]}. Install them with your package manager." >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
