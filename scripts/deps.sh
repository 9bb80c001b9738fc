#!/bin/sh
# Installs the third-party programs the end-to-end tests drive, from
# Debian's packages: slixmpp (a Python XMPP library), aiohttp (which
# slixmpp's HTTP File Upload plugin uses) and Prosody (an XMPP server used
# as a federation peer). Skips what is already there.
set -eu

missing=""
/usr/bin/python3 -c 'import slixmpp' 2>/dev/null || missing="$missing python3-slixmpp"
/usr/bin/python3 -c 'import aiohttp' 2>/dev/null || missing="$missing python3-aiohttp"
command -v prosody >/dev/null 2>&1 || missing="$missing prosody"

if [ -z "$missing" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing; install them as root (apt-get install$missing)" >&2
	exit 1
fi
echo "deps: installing$missing"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/dev/null || {
	apt-get update >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/dev/null
}
