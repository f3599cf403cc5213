#!/usr/bin/env bash
# Installs the browser the web UI tests drive: Debian's chromium at /usr/bin/chromium (playwright-core launches it; Playwright's own
# browser download does not work on these machines). Also two small fonts (about 2 MB) so the screenshots show the Hindi, Japanese
# and Chinese greetings instead of empty boxes. Does nothing when all of it is already there. Elsewhere than Debian, the tests
# take CHROMIUM_PATH or a browser that `npx playwright install chromium` put in Playwright's cache.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/ci/lib.sh
source "$HERE/lib.sh"

if ! command -v dpkg-query >/dev/null; then
  log install-browser "not a Debian machine: set CHROMIUM_PATH, or run \`npx playwright install chromium\`"
  exit 0
fi
apt_install chromium fonts-droid-fallback fonts-lohit-deva
# Debian's launcher script prints a harmless shell warning on some machines; only the version line matters here.
/usr/bin/chromium --version 2>/dev/null
