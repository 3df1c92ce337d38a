// Row actions: ping now (POST .../ping, the round trip is said and shown in the row) and kick
// (DELETE, after a modal confirmation; Escape or Cancel keeps the client). Results go to a polite
// live region.
import { api, enc } from './api.js';

/**
 * @param {{ host: () => string, settings: () => object | null, statusEl: HTMLElement,
 *           dialog: HTMLDialogElement, dialogText: HTMLElement,
 *           onPinged: (row: object) => void, onKicked: () => void }} opts
 */
export function createActions(opts) {
  const say = (text) => (opts.statusEl.textContent = text);
  const base = (row) => `/v1/hosts/${enc(opts.host())}/endpoints/${row.transport}/${enc(row.id)}`;
  /** A gateway's row is named with its source (its own id namespace); the server answers 409 where the gateway cannot act. */
  const query = (row) => (row.source && row.source !== 'local' ? `?source=${enc(row.source)}` : '');

  /** true, or why the row cannot be pinged (the button is disabled with that title). */
  function canPing(row) {
    if (row.transport === 'mqtt' && opts.settings()?.mqtt_probe === 'keepalive') return 'this host checks MQTT clients by the keepalive rule (mqtt_probe: keepalive)';
    return true;
  }

  async function ping(row) {
    say(`Pinging ${row.id}…`);
    const r = await api('POST', `${base(row)}/ping${query(row)}`);
    if (!r.ok) return say(`Ping ${row.id} failed: ${r.json?.message ?? `HTTP ${r.status}`}`);
    const ms = r.json.rtt_ms;
    say(`Ping ${row.id}: round trip ${ms < 10 ? ms.toFixed(2) : Math.round(ms)} ms (${r.json.answer}).`);
    opts.onPinged({ ...row, last_rtt_ms: ms, liveness: 'active' });
  }

  function kick(row) {
    const { dialog } = opts;
    opts.dialogText.textContent = `Kick ${row.transport} ${row.id} from ${opts.host()}? The connection is closed with reason “kicked”.`;
    dialog.returnValue = '';
    dialog.addEventListener(
      'close',
      async () => {
        if (dialog.returnValue !== 'ok') return;
        const r = await api('DELETE', `${base(row)}${query(row)}`);
        if (!r.ok) return say(`Kick ${row.id} failed: ${r.json?.message ?? `HTTP ${r.status}`}`);
        say(`Kicked ${r.json.kicked.map((k) => k.id).join(', ')}.`);
        opts.onKicked();
      },
      { once: true },
    );
    dialog.showModal();
    dialog.querySelector('button[value="cancel"]').focus();
  }

  return { canPing, ping, kick };
}
