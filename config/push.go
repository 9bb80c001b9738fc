package config

import "time"

// Push is the [push] table: push notifications to the app servers that
// clients register (XEP-0357).
type Push struct {
	// IncludeBody adds the message body to each notification. The body
	// then passes through the app server and the phone platform's push
	// service, so it is off by default.
	IncludeBody bool `toml:"include_body"`
	// MinInterval is the shortest time between two notifications to one
	// registered app server node. Messages arriving sooner are counted
	// but send no notification of their own. Zero sends one notification
	// per message.
	MinInterval time.Duration `toml:"min_interval"`
}

// defaultPush returns the defaults of the [push] table.
func defaultPush() Push {
	return Push{MinInterval: 5 * time.Second}
}

func (v *validator) push(p *Push) {
	v.notNegative("push.min_interval", p.MinInterval)
}
