// Online counts by transport and the probe round-trip p50/p90 of each 10 s step, over the last
// half hour, from the overview's history; uPlot (MIT, ~50 KB) draws it on one canvas.
import { clockTime } from './format.js';

const HEIGHT = 200;

export function createChart(el, summaryEl) {
  let plot = null;
  const uPlot = globalThis.uPlot;
  if (!uPlot) {
    el.textContent = 'The chart library did not load.';
    return { set() {} };
  }
  const opts = (width) => ({
    width,
    height: HEIGHT,
    scales: { x: { time: true }, n: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
    series: [
      {},
      { label: 'online XMPP', scale: 'n', stroke: '#1d4f91', width: 2 },
      { label: 'online MQTT', scale: 'n', stroke: '#8f4a00', width: 2 },
      { label: 'RTT p50 (ms)', scale: 'ms', stroke: '#1b6e3a', width: 1.5, dash: [6, 3], spanGaps: true },
      { label: 'RTT p90 (ms)', scale: 'ms', stroke: '#a3262a', width: 1.5, dash: [2, 3], spanGaps: true },
    ],
    axes: [{ stroke: '#333' }, { scale: 'n', stroke: '#333', label: 'online' }, { scale: 'ms', side: 1, stroke: '#333', label: 'ms', grid: { show: false } }],
    legend: { live: false },
  });
  new ResizeObserver(() => plot?.setSize({ width: Math.max(240, el.clientWidth), height: HEIGHT })).observe(el);

  return {
    set(history) {
      const data = [
        history.map((p) => p.at / 1000),
        history.map((p) => p.online_xmpp),
        history.map((p) => p.online_mqtt),
        history.map((p) => p.rtt_p50_ms),
        history.map((p) => p.rtt_p90_ms),
      ];
      if (!plot) plot = new uPlot(opts(Math.max(240, el.clientWidth)), data, el);
      else plot.setData(data);
      const last = history[history.length - 1];
      const p50 = [...history].reverse().find((p) => p.rtt_p50_ms !== null)?.rtt_p50_ms;
      const text = last
        ? `At ${clockTime(last.at)}: ${last.online_xmpp} XMPP and ${last.online_mqtt} MQTT online; last probe round trip p50 ${p50 ?? '–'} ms.`
        : 'No data yet.';
      el.setAttribute('aria-label', `Chart of online counts and probe round trips. ${text}`);
      summaryEl.textContent = text;
    },
  };
}
