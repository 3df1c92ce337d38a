/** The element model's copy and serializer (src/xmpp/xml.ts). */
import { describe, expect, it } from 'vitest';
import { serialize, withAttrs, x } from '../../src/xmpp/xml.js';

describe('withAttrs and serialize', () => {
  it('replaces in place, removes with undefined, adds new attributes last, and shares the children', () => {
    const el = x('message', { to: 'b@example.org', id: '1', type: 'chat' }, x('body', {}, 'hi'));
    const copy = withAttrs(el, { id: '2', from: 'a@example.org/r', type: undefined });
    expect(serialize(copy)).toBe('<message to="b@example.org" id="2" from="a@example.org/r"><body>hi</body></message>');
    expect(copy.children).toBe(el.children);
    expect(serialize(el)).toBe('<message to="b@example.org" id="1" type="chat"><body>hi</body></message>');
  });

  it('treats attributes named like Object.prototype members as plain attributes', () => {
    const el = x('message', { constructor: 'c', toString: 't' });
    expect(serialize(withAttrs(el, { from: 'a@example.org' }))).toBe('<message constructor="c" toString="t" from="a@example.org"/>');
    expect(serialize(withAttrs(x('iq', {}), { hasOwnProperty: 'h' }))).toBe('<iq hasOwnProperty="h"/>');
  });

  it('escapes only what needs it', () => {
    expect(serialize(x('body', { a: `"<&>'` }, 'a < b & c > d "q"'))).toBe('<body a="&quot;&lt;&amp;&gt;&apos;">a &lt; b &amp; c &gt; d "q"</body>');
  });
});
