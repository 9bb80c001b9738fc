package storage

import (
	"context"
	"time"
)

// PubSubNode is a node of an account's personal publish-subscribe service
// (XEP-0163), such as "urn:xmpp:avatar:metadata".
type PubSubNode struct {
	// Name is the node's name, unique per owner.
	Name string
	// Config is the node configuration as data form values keyed by field
	// name (XEP-0060 §17.4.4), such as "pubsub#access_model". Backends
	// store it without interpreting it.
	Config map[string][]string
	// Affiliations maps bare JIDs to their affiliation with the node, such
	// as "member" or "outcast". The owner's own affiliation is implicit.
	Affiliations map[string]string
}

// PubSubItem is one published item of a node.
type PubSubItem struct {
	// ID is the item id, unique within the node.
	ID string
	// Publisher is the JID that published the item.
	Publisher string
	// Payload is the item's payload element as serialized XML.
	Payload []byte
	// Published is when the item was published. PublishItem stores the
	// current time when it is zero.
	Published time.Time
}

// PubSub stores the nodes and items of personal publish-subscribe
// services. Items of a node are ordered by publication: publishing an id
// that exists replaces that item and makes it the newest.
type PubSub interface {
	// CreateNode stores a new node with no items. It returns ErrExists if
	// the owner has a node with the same name.
	CreateNode(ctx context.Context, o Owner, n PubSubNode) error
	// GetNode returns ErrNotFound when the owner has no such node.
	GetNode(ctx context.Context, o Owner, name string) (PubSubNode, error)
	// ListNodes returns every node of the owner, sorted by name in byte
	// order.
	ListNodes(ctx context.Context, o Owner) ([]PubSubNode, error)
	// ConfigureNode replaces the Config and Affiliations of an existing
	// node, then removes its oldest items beyond maxItems (no limit when
	// maxItems <= 0). It returns ErrNotFound for an unknown node.
	ConfigureNode(ctx context.Context, o Owner, n PubSubNode, maxItems int) error
	// DeleteNode removes a node and its items. It returns ErrNotFound for
	// an unknown node.
	DeleteNode(ctx context.Context, o Owner, name string) error
	// PublishItem stores item as the node's newest item, replacing any
	// item with the same ID, then removes the oldest items beyond maxItems
	// (no limit when maxItems <= 0). It returns ErrNotFound for an unknown
	// node.
	PublishItem(ctx context.Context, o Owner, node string, item PubSubItem, maxItems int) error
	// GetItems returns the node's items, oldest first; when max > 0, only
	// the max newest. It returns ErrNotFound for an unknown node.
	GetItems(ctx context.Context, o Owner, node string, max int) ([]PubSubItem, error)
	// GetItem returns ErrNotFound when the node or the item does not
	// exist.
	GetItem(ctx context.Context, o Owner, node, id string) (PubSubItem, error)
	// RetractItem removes one item. It returns ErrNotFound when the node
	// or the item does not exist.
	RetractItem(ctx context.Context, o Owner, node, id string) error
	// PurgeNode removes every item of a node. It returns ErrNotFound for
	// an unknown node.
	PurgeNode(ctx context.Context, o Owner, node string) error
}
