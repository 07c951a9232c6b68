package dnssec

import (
	"container/list"
	"sync"
	"time"
)

// lru is a size-bounded map whose entries also expire. It is safe for
// concurrent use. A capacity of zero or less disables it.
type lru[K comparable, V any] struct {
	mu    sync.Mutex
	cap   int
	items map[K]*list.Element
	order *list.List // front = most recently used
}

type lruEntry[K comparable, V any] struct {
	key     K
	val     V
	expires time.Time
}

func newLRU[K comparable, V any](capacity int) *lru[K, V] {
	return &lru[K, V]{cap: capacity, items: make(map[K]*list.Element), order: list.New()}
}

// get returns the value for k if present and not expired at now.
func (c *lru[K, V]) get(k K, now time.Time) (V, time.Time, bool) {
	var zero V
	if c.cap <= 0 {
		return zero, time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return zero, time.Time{}, false
	}
	e := el.Value.(*lruEntry[K, V])
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, k)
		return zero, time.Time{}, false
	}
	c.order.MoveToFront(el)
	return e.val, e.expires, true
}

// put stores v under k until expires, evicting the least recently used
// entry when full. An entry that expires at or before now is not stored.
func (c *lru[K, V]) put(k K, v V, now, expires time.Time) {
	if c.cap <= 0 || !now.Before(expires) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		e := el.Value.(*lruEntry[K, V])
		e.val, e.expires = v, expires
		c.order.MoveToFront(el)
		return
	}
	for c.order.Len() >= c.cap {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*lruEntry[K, V]).key)
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v, expires: expires})
}

// len returns the number of entries, expired or not.
func (c *lru[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// purge empties the cache.
func (c *lru[K, V]) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = make(map[K]*list.Element)
	c.order.Init()
}
