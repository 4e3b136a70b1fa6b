// A small SMM panel API v2 client in plain Node (built-in fetch, no npm packages): the
// "SDK" the Node shim certifies. Money and counts stay the strings the panel sent (exact),
// every {"error": ...} answer throws, nothing is re-sent, and a call gives up on time.
'use strict';

class PanelError extends Error {}

class SmmClient {
  constructor(url, key, timeoutSeconds) {
    this.url = url;
    this.key = key;
    this.timeoutMs = Math.round(timeoutSeconds * 1000);
  }

  async request(action, params = {}) {
    const body = new URLSearchParams({ key: this.key, action, ...params });
    let response;
    try {
      response = await fetch(this.url, {
        method: 'POST', body, signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new PanelError(`${action}: no answer (${error.name})`);
    }
    const text = await response.text().catch(() => '');
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new PanelError(`${action}: HTTP ${response.status}, body is not JSON`);
    }
    if (answer && typeof answer === 'object' && !Array.isArray(answer) && answer.error) {
      throw new PanelError(`${action}: ${answer.error} (HTTP ${response.status})`);
    }
    if (response.status >= 400) throw new PanelError(`${action}: HTTP ${response.status}`);
    return answer;
  }

  // Numbers are handed over as the panel's text: String(x) keeps "100.84292" exact.
  async balance() {
    const a = await this.request('balance');
    return { balance: String(a.balance), currency: a.currency };
  }
  async services() {
    return (await this.request('services')).map((s) => ({ ...s, rate: String(s.rate) }));
  }
  async add(service, link, quantity, extras = {}) {
    const params = { service: String(service), link, ...extras };
    if (quantity !== null && quantity !== undefined) params.quantity = String(quantity);
    const a = await this.request('add', params);
    if (a.order === undefined || a.order === null) throw new PanelError('add: no order id');
    return String(a.order);
  }
  static read(row) {
    const out = { ...row };
    for (const name of ['charge', 'remains', 'start_count']) {
      if (out[name] !== undefined) out[name] = String(out[name]);
    }
    return out;
  }
  async status(order) { return SmmClient.read(await this.request('status', { order: String(order) })); }
  async multiStatus(orders) {
    const a = await this.request('status', { orders: orders.join(',') });
    const out = {};
    for (const [id, row] of Object.entries(a)) {
      if (typeof row === 'string') out[id] = { error: row };
      else out[id] = row.error ? { error: row.error } : SmmClient.read(row);
    }
    return out;
  }
  async cancel(orders) {
    const a = await this.request('cancel', { orders: orders.join(',') });
    const out = {};
    for (const item of Array.isArray(a) ? a : [a]) {
      const nested = item.cancel && typeof item.cancel === 'object' ? item.cancel.error : undefined;
      const error = item.error || nested;
      out[String(item.order)] = error ? { error } : { cancel: true };
    }
    return out;
  }
  async refill(order) {
    const a = await this.request('refill', { order: String(order) });
    if (a.refill && typeof a.refill === 'object') throw new PanelError(`refill: ${a.refill.error}`);
    return String(a.refill);
  }
  async refillStatus(refill) {
    const a = await this.request('refill_status', { refill: String(refill) });
    if (a.status && typeof a.status === 'object') throw new PanelError(`refill_status: ${a.status.error}`);
    return a.status;
  }
}

module.exports = { SmmClient, PanelError };
