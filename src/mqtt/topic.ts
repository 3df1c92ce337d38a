/**
 * Topic names and topic filters (MQTT 3.1.1 §4.7, 5.0 §4.7).
 *
 * Invariants checked here:
 *   - names and filters are at least one character long [MQTT-4.7.3-1] and contain no U+0000 [MQTT-4.7.3-2];
 *   - a topic name has no wildcard [MQTT-3.3.2-2];
 *   - '#' stands alone as the last level of a filter [MQTT-4.7.1-2]; '+' stands alone in its level [MQTT-4.7.1-3];
 *   - U+FFFD is refused: mqtt-packet decodes ill-formed UTF-8 [MQTT-1.5.3-1] into it, so it is the only
 *     trace left of invalid input (a client sending a real U+FFFD is refused too, the strict reading).
 */

export function isValidTopicName(topic: string): boolean {
  if (topic.length === 0) return false;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 0x23 /* # */ || c === 0x2b /* + */ || c === 0 || c === 0xfffd) return false;
  }
  return true;
}

export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const n = filter.length;
  for (let i = 0; i < n; i++) {
    const c = filter.charCodeAt(i);
    if (c === 0 || c === 0xfffd) return false;
    if (c === 0x23 /* # */) {
      if (i !== n - 1) return false;
      if (i > 0 && filter.charCodeAt(i - 1) !== 0x2f /* / */) return false;
    } else if (c === 0x2b /* + */) {
      if (i > 0 && filter.charCodeAt(i - 1) !== 0x2f) return false;
      if (i < n - 1 && filter.charCodeAt(i + 1) !== 0x2f) return false;
    }
  }
  return true;
}

/** Shared subscriptions ($share/group/filter, MQTT 5.0 §4.8.2) are not supported yet. */
export function isSharedFilter(filter: string): boolean {
  return filter.startsWith('$share/');
}

/** Does `filter` match `topic`? '+' and '#' do not match a first level starting with '$' [MQTT-4.7.2-1]. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true; // '#' also matches the parent level [MQTT-4.7.1-2]
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Is every topic matched by `inner` also matched by `outer`? Used by ACL rules: a subscription to
 * `inner` is covered by a rule on `outer`.
 */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  if (inner.startsWith('$') !== outer.startsWith('$') && (o[0] === '+' || o[0] === '#')) return false;
  for (let i = 0; i < o.length; i++) {
    const level = o[i];
    if (level === '#') return true;
    if (i >= n.length) return false;
    const x = n[i];
    if (x === '#') return false;
    if (level === '+') continue;
    if (x === '+' || x !== level) return false;
  }
  return o.length === n.length;
}
