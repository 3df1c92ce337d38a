// A host's liveness settings: shown from GET /v1/hosts/{host}/config, changed with PATCH (only the
// fields that differ). The server validates exactly as it validates the config file; its 400
// names the field (`body.ping_interval`), and the message is shown next to that field.
import { api, enc } from './api.js';

const FIELDS = ['ping_interval', 'ping_ack_timeout', 'timeout_action', 'mqtt_probe'];
const NUMERIC = new Set(['ping_interval', 'ping_ack_timeout']);

export function createConfigForm({ form, statusEl, hostEl, onChanged }) {
  let host = null;
  let current = null;
  const input = (name) => form.querySelector(`#c-${name}`);
  const errorEl = (name) => form.querySelector(`#e-${name}`);

  function clearErrors() {
    for (const n of FIELDS) {
      errorEl(n).textContent = '';
      input(n).removeAttribute('aria-invalid');
    }
  }

  function fill() {
    for (const n of FIELDS) input(n).value = String(current[n]);
  }

  async function load(h) {
    host = h;
    hostEl.textContent = h;
    clearErrors();
    statusEl.textContent = '';
    const r = await api('GET', `/v1/hosts/${enc(h)}/config`);
    if (!r.ok) {
      statusEl.textContent = r.json?.message ?? `Cannot read the settings (HTTP ${r.status}).`;
      return null;
    }
    current = r.json.config;
    fill();
    return current;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!current) return;
    clearErrors();
    const patch = {};
    for (const n of FIELDS) {
      const raw = input(n).value.trim();
      // A number when it reads as one; anything else goes as typed, for the server to refuse.
      const value = NUMERIC.has(n) && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
      if (value !== current[n]) patch[n] = value;
    }
    if (Object.keys(patch).length === 0) {
      statusEl.textContent = 'Nothing changed.';
      return;
    }
    const persist = form.querySelector('#c-persist').checked;
    statusEl.textContent = 'Applying…';
    const r = await api('PATCH', `/v1/hosts/${enc(host)}/config${persist ? '?persist=true' : ''}`, patch);
    if (r.ok) {
      current = r.json.config;
      fill();
      statusEl.textContent = `Applied to ${host}${persist ? ' and kept for restarts' : ''}: ${Object.keys(patch).join(', ')}.`;
      onChanged(current);
      return;
    }
    const name = /^body\.(\w+)/.exec(r.json?.field ?? '')?.[1];
    if (r.status === 400 && name && FIELDS.includes(name)) {
      errorEl(name).textContent = r.json.message;
      input(name).setAttribute('aria-invalid', 'true');
      input(name).focus();
      statusEl.textContent = 'Not applied: see the field.';
    } else {
      statusEl.textContent = `Not applied: ${r.json?.message ?? `HTTP ${r.status}`}`;
    }
  });

  return { load, current: () => current };
}
