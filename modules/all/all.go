// Package all imports every module that Tern ships with, so that each
// registers itself with the module registry.
package all

import (
	_ "tern/modules/offline"
	_ "tern/modules/ping"
	_ "tern/modules/roster"
)
