import { describe, expect, it } from 'vitest';
import { filterCovers, isValidTopicFilter, isValidTopicName, topicMatches } from '../../src/mqtt/topic.js';
import { SubscriptionTrie } from '../../src/mqtt/trie.js';

describe('topic names and filters', () => {
  it('validates names [MQTT-4.7.3-1/2] [MQTT-3.3.2-2]', () => {
    expect(isValidTopicName('a/b')).toBe(true);
    expect(isValidTopicName('/')).toBe(true);
    for (const bad of ['', 'a/+', 'a/#', 'a\u0000b', 'bad\ufffd']) expect(isValidTopicName(bad)).toBe(false);
  });

  it('validates filters [MQTT-4.7.1-2/3]', () => {
    for (const ok of ['#', '+', 'a/#', 'a/+/b', '+/+', '/', 'a//b', '$SYS/#']) expect(isValidTopicFilter(ok)).toBe(true);
    for (const bad of ['', 'a#', 'a/#/b', 'a+', 'a/+b', '#/a', 'x\u0000']) expect(isValidTopicFilter(bad)).toBe(false);
  });

  it('matches with + and #, # includes the parent level, $ topics excluded at the first level', () => {
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/+', 'a')).toBe(false);
    expect(topicMatches('+/+', '/x')).toBe(true);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('+/x', '$SYS/x')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/x')).toBe(true);
  });

  it('filterCovers: inner filter inside the outer one', () => {
    expect(filterCovers('a/#', 'a/+/c')).toBe(true);
    expect(filterCovers('a/+', 'a/#')).toBe(false);
    expect(filterCovers('#', '$SYS/#')).toBe(false);
    expect(filterCovers('a/+/c', 'a/b/c')).toBe(true);
  });
});

describe('SubscriptionTrie', () => {
  const all = (t: SubscriptionTrie<string>, topic: string) => t.match(topic, []).sort();

  it('finds every matching filter and nothing else', () => {
    const t = new SubscriptionTrie<string>();
    const filters = ['a/b', 'a/+', 'a/#', '#', '+/b', 'a/b/c', '+', '$SYS/#', '+/+/+'];
    for (const f of filters) t.add(f, f, f);
    for (const topic of ['a/b', 'a', 'a/b/c', 'x/b', '$SYS/a', '/b', 'a/b/c/d']) {
      expect(all(t, topic)).toEqual(filters.filter((f) => topicMatches(f, topic)).sort());
    }
  });

  it('replaces per key, removes and prunes', () => {
    const t = new SubscriptionTrie<string>();
    expect(t.add('a/+', 'c1', 'q0')).toBe(true);
    expect(t.add('a/+', 'c1', 'q1')).toBe(false);
    t.add('a/+', 'c2', 'x');
    expect(all(t, 'a/z')).toEqual(['q1', 'x']);
    expect(t.remove('a/+', 'c1')).toBe(true);
    expect(t.remove('a/+', 'c1')).toBe(false);
    expect(t.remove('a/+', 'c2')).toBe(true);
    expect(t.size).toBe(0);
    expect(all(t, 'a/z')).toEqual([]);
  });
});
