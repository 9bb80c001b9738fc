// Package all imports every module that Tern ships with, so that each
// registers itself with the module registry.
package all

import (
	_ "tern/modules/adhoc"
	_ "tern/modules/announce"
	_ "tern/modules/blocking"
	_ "tern/modules/carbons"
	_ "tern/modules/disco"
	_ "tern/modules/extdisco"
	_ "tern/modules/last"
	_ "tern/modules/mam"
	_ "tern/modules/muc"
	_ "tern/modules/multicast"
	_ "tern/modules/offline"
	_ "tern/modules/pep"
	_ "tern/modules/ping"
	_ "tern/modules/private"
	_ "tern/modules/push"
	_ "tern/modules/register"
	_ "tern/modules/roster"
	_ "tern/modules/time"
	_ "tern/modules/upload"
	_ "tern/modules/vcard"
	_ "tern/modules/version"
)
