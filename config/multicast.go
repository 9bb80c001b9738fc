package config

// Multicast is the [multicast] table: the multicast service of Extended
// Stanza Addressing (XEP-0033) on each server domain.
type Multicast struct {
	// MaxAddresses is the largest number of to, cc and bcc addresses one
	// stanza may list. A stanza with more gets a not-acceptable error and
	// is delivered to no one. XEP-0033 §6 suggests a limit between 20 and
	// 100.
	MaxAddresses int `toml:"max_addresses"`
}

// defaultMulticast returns the defaults of the [multicast] table.
func defaultMulticast() Multicast {
	return Multicast{MaxAddresses: 100}
}

func (v *validator) multicast(m *Multicast) {
	v.atLeast("multicast.max_addresses", m.MaxAddresses, 1)
}
