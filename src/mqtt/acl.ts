/**
 * Per host ACL: an ordered rule list, first match wins, `acl_default` when none matches.
 * A rule matches an operation when its action fits, its username and client id globs match, and
 * its topic filter (after %u / %c substitution) covers the topic: for PUBLISH the topic name
 * matches the filter, for SUBSCRIBE the subscribed filter lies inside the rule's filter.
 * Rules are compiled once per host config; checking is allocation-free apart from %u / %c rules.
 */
import { filterCovers, topicMatches } from './topic.js';

export type AclAction = 'publish' | 'subscribe';

export interface AclRule {
  permission: 'allow' | 'deny';
  action: 'publish' | 'subscribe' | 'all';
  topic: string;
  username: string;
  client_id: string;
}

export interface AclSubject {
  username: string | null;
  clientId: string;
}

interface CompiledRule {
  allow: boolean;
  action: AclRule['action'];
  topic: string;
  templated: boolean;
  user: RegExp | null;
  client: RegExp | null;
}

export interface Acl {
  allows(action: AclAction, topic: string, who: AclSubject): boolean;
}

const globToRegExp = (glob: string): RegExp | null =>
  glob === '*'
    ? null
    : new RegExp(`^${glob.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

export function compileAcl(rules: readonly AclRule[], fallback: 'allow' | 'deny'): Acl {
  const compiled: CompiledRule[] = rules.map((r) => ({
    allow: r.permission === 'allow',
    action: r.action,
    topic: r.topic,
    templated: r.topic.includes('%u') || r.topic.includes('%c'),
    user: globToRegExp(r.username),
    client: globToRegExp(r.client_id),
  }));
  const defaultAllow = fallback === 'allow';
  if (compiled.length === 0) return { allows: () => defaultAllow };
  return {
    allows(action, topic, who) {
      for (const r of compiled) {
        if (r.action !== 'all' && r.action !== action) continue;
        if (r.user && (who.username === null || !r.user.test(who.username))) continue;
        if (r.client && !r.client.test(who.clientId)) continue;
        let filter = r.topic;
        if (r.templated) {
          // A substituted value containing wildcards must not widen the rule.
          if (r.topic.includes('%u') && (who.username === null || /[+#/]/.test(who.username))) continue;
          if (r.topic.includes('%c') && /[+#/]/.test(who.clientId)) continue;
          filter = filter.replaceAll('%u', who.username ?? '').replaceAll('%c', who.clientId);
        }
        const hit = action === 'publish' ? topicMatches(filter, topic) : filterCovers(filter, topic);
        if (hit) return r.allow;
      }
      return defaultAllow;
    },
  };
}
