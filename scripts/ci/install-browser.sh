#!/usr/bin/env bash
# Installs the browser the web UI tests drive: Debian's chromium at /usr/bin/chromium (playwright-core launches it; Playwright's own
# browser download does not work on these machines). Also two small fonts (about 2 MB) so the screenshots show the Hindi, Japanese
# and Chinese greetings instead of empty boxes. Does nothing when all of it is already there.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
PACKAGES=(chromium fonts-droid-fallback fonts-lohit-deva)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-browser: need root to apt-get install ${missing[*]}" >&2
    exit 1
  fi
  # A fresh machine may have no package lists yet: update once and retry when the first attempt cannot find a package.
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null; }
fi

# Debian's launcher script prints a harmless shell warning on some machines; only the version line matters here.
"$CHROMIUM" --version 2>/dev/null
