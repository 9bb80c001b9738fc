package e2e

import "tern/config"

type configT = config.Config
