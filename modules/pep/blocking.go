package pep

import (
	"context"

	"mellium.im/xmpp/jid"

	"tern/modules/blocking"
)

// blocked reports whether account blocks contact (XEP-0191). A blocked
// contact gets no notifications and cannot retrieve items. Without the
// blocking module nothing is blocked.
func (m *module) blocked(ctx context.Context, account, contact jid.JID) bool {
	return blocking.For(m.host).IsBlocked(ctx, owner(account), contact)
}
