// Campaigns: the list a page at a time, and one campaign followed live from its event stream.
import { follow, get, post } from './api.js';
import { bytes, duration, el, figure, fill, isoDuration, isoSeconds, rate, table, time } from './dom.js';

const PAGE = 50;

export async function showCampaigns(view, signal) {
  const cursors = [null]; // the cursor of each page shown so far, to go back
  async function page(index) {
    const after = cursors[index];
    const answer = await get('/v1/campaigns?limit=' + PAGE + (after ? '&after=' + encodeURIComponent(after) : ''));
    if (signal.aborted) return;
    cursors[index + 1] = answer.next;
    const rows = answer.items.map((c) => el('tr', { 'data-campaign': c.campaignId },
      el('td', {}, el('a', { href: '#/campaigns/' + encodeURIComponent(c.campaignId) }, c.campaignId)),
      el('td', {}, c.name),
      el('td', { class: 'state-' + c.state }, c.state + (c.paused ? ', paused' : '') + (c.dryRun ? ' (dry run)' : '')),
      el('td', {}, time(c.submittedAt)),
      el('td', { class: 'num' }, c.totals.jobs),
      el('td', { class: 'num' }, c.totals.merged),
      el('td', { class: 'num' }, c.totals.refused),
      el('td', { class: 'num' }, c.totals.failed),
      el('td', { class: 'num' }, c.totals.skipped),
      el('td', { class: 'num' }, bytes(c.totals.bytesMerged))));
    fill(view,
      el('h1', {}, 'Campaigns'),
      rows.length ? table(['id', 'name', 'state', 'submitted', 'jobs', 'merged', 'refused', 'failed', 'skipped', 'merged bytes'], rows, { id: 'campaigns' })
        : el('p', { class: 'muted' }, 'No campaigns yet.'),
      el('p', {},
        index > 0 ? el('button', { type: 'button', id: 'previous-page', onclick: () => page(index - 1) }, 'Previous page') : null,
        ' ',
        answer.next ? el('button', { type: 'button', id: 'next-page', onclick: () => page(index + 1) }, 'Next page') : null));
  }
  await page(0);
}

const OVER = ['finished', 'cancelled'];

/** One campaign: its report, kept current by the events of its stream. */
export async function showCampaign(view, campaignId, caller, signal) {
  const mayOperate = caller.permissions.includes('operate');
  let report = await get('/v1/campaigns/' + encodeURIComponent(campaignId));
  const throughput = []; // {at: ms, bytesPerSecond} of the whole campaign, one sample a second at most
  let ended = OVER.includes(report.state);
  let drawing = false;
  let notice = '';
  // A standing campaign's backup requests: those under way, and the answered ones a page at a time.
  const requests = { open: [], answered: [], next: null, loadedAt: 0, loading: false };
  const requestsPath = '/v1/campaigns/' + encodeURIComponent(campaignId) + '/requests?status=';

  async function loadRequests() {
    if (requests.loading) return;
    requests.loading = true;
    try {
      // As many answered ones as are shown, so a refresh does not fold what "more" opened.
      const shown = Math.min(1000, Math.max(100, requests.answered.length));
      const [open, answered] = await Promise.all([
        get(requestsPath + 'received,planned&limit=1000'),
        get(requestsPath + 'answered&limit=' + shown)]);
      requests.open = open.items;
      requests.answered = answered.items;
      requests.next = answered.next;
      requests.loadedAt = Date.now();
    } finally {
      requests.loading = false;
    }
  }

  async function moreRequests() {
    const page = await get(requestsPath + 'answered&limit=100&after=' + encodeURIComponent(requests.next));
    requests.answered.push(...page.items);
    requests.next = page.next;
    redraw();
  }

  function redraw() {
    if (drawing || signal.aborted) return;
    drawing = true;
    requestAnimationFrame(() => {
      drawing = false;
      render(view, report, { mayOperate, ended, throughput, notice, approve, requests, moreRequests });
    });
  }

  function sample() {
    const now = Date.now();
    const total = report.jobs
      .filter((j) => j.status === 'published' && j.progress)
      .reduce((sum, j) => sum + (j.progress.bytesPerSecond || 0), 0);
    const last = throughput[throughput.length - 1];
    if (last && now - last.at < 1000) last.bytesPerSecond = total;
    else throughput.push({ at: now, bytesPerSecond: total });
    if (throughput.length > 600) throughput.shift();
  }

  function replace(list, item, key) {
    const index = list.findIndex((x) => x[key] === item[key]);
    if (index >= 0) list[index] = item;
    else list.push(item);
  }

  function onEvent(type, data) {
    switch (type) {
      case 'snapshot': report = data; break;
      case 'job': replace(report.jobs, { ...data, progress: data.progress ?? findJob(data.jobId)?.progress }, 'jobId'); break;
      case 'progress': { const job = findJob(data.jobId); if (job) job.progress = data; break; }
      case 'totals': report.totals = data; break;
      case 'state': report.state = data.state; report.paused = data.paused; break;
      case 'skip': replace(report.skipped, data, 'disk'); break;
      case 'recovery': replace(report.recoveries, data, 'recoveryId'); break;
      case 'action': replace(report.actions, data, 'sequence'); break;
      case 'end': ended = true; break;
      default: break;
    }
    if (type === 'progress' || type === 'job' || type === 'snapshot') sample();
    // Requests change as their jobs do; read them again at most every two seconds.
    if ((type === 'job' || type === 'snapshot' || type === 'end') && Date.now() - requests.loadedAt > 2000) {
      loadRequests().then(redraw, () => {});
    }
    redraw();
  }

  function findJob(jobId) {
    return report.jobs.find((j) => j.jobId === jobId);
  }

  async function approve(recoveryId) {
    try {
      report = await post('/v1/campaigns/' + encodeURIComponent(campaignId) + '/approve?recovery=' + encodeURIComponent(recoveryId));
      notice = 'Approved recovery ' + recoveryId + '.';
    } catch (error) {
      notice = 'Not approved: ' + error.message;
    }
    redraw();
  }

  await loadRequests();
  render(view, report, { mayOperate, ended, throughput, notice, approve, requests, moreRequests });
  let lastId = null;
  while (!ended && !signal.aborted) {
    try {
      lastId = await follow(campaignId, onEvent, signal, lastId);
    } catch (error) {
      if (error.name === 'AbortError') return;
      notice = 'Stream interrupted (' + error.message + '); reconnecting.';
      redraw();
    }
    if (ended) {
      // The whole report once more: the stream's end carries the summary only.
      report = await get('/v1/campaigns/' + encodeURIComponent(campaignId));
      await loadRequests();
      redraw();
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function render(view, report, { mayOperate, ended, throughput, notice, approve, requests, moreRequests }) {
  const t = report.totals;
  const merges = report.jobs.filter((j) => j.kind === 'merge');
  const refused = report.jobs.filter((j) => j.outcome === 'refused');
  fill(view,
    el('p', {}, el('a', { href: '#/campaigns' }, '← Campaigns')),
    el('h1', {}, report.name || report.campaignId, ' ', el('span', { class: 'muted' }, report.campaignId)),
    el('p', {},
      'State: ', el('strong', { id: 'campaign-state', class: 'state-' + report.state }, report.state),
      report.paused ? ' (paused)' : '', report.dryRun ? ' (dry run)' : '',
      ' · submitted ', time(report.submittedAt), report.submittedBy ? ' by ' + report.submittedBy : '',
      report.elapsed ? ' · elapsed ' + isoDuration(report.elapsed) : '',
      ' · ', el('span', { id: 'stream-state' }, ended ? 'over' : 'live')),
    notice ? el('p', { id: 'notice' }, notice) : null,
    el('div', { class: 'figures' },
      figure('jobs', t.jobs, 'total-jobs'),
      figure('waiting', t.waiting, 'total-waiting'),
      figure('running', t.running, 'total-running'),
      figure('merged', t.merged, 'total-merged'),
      figure('refused', t.refused, 'total-refused'),
      figure('failed', t.failed, 'total-failed'),
      figure('skipped', t.skipped, 'total-skipped'),
      el('div', { class: 'figure' },
        el('div', { class: 'value', id: 'total-bytes-merged', 'data-bytes': t.bytesMerged }, bytes(t.bytesMerged)),
        el('div', { class: 'label' }, 'merged bytes')),
      figure('reclaimed', bytes(t.reclaimedBytes), 'total-reclaimed')),
    el('h2', {}, 'Throughput'),
    chart(throughput),
    el('h2', {}, 'Merged per pool and per volume'),
    byPlace(report, 'pool', (j) => j.pool),
    byPlace(report, 'volume', (j) => (j.volume ? j.host + ':' + j.volume : null)),
    el('h2', {}, 'Jobs (' + report.jobs.length + ', ' + merges.length + ' merges)'),
    jobs(report.jobs),
    el('h2', {}, 'Refused (' + refused.length + ')'),
    refused.length ? table(['disk', 'host', 'reason', 'message', 'figures'], refused.map((j) => el('tr', { 'data-child': j.child },
      el('td', {}, j.child), el('td', {}, j.host), el('td', {}, j.reason), el('td', {}, j.message), el('td', {}, figures(j.figures)))), { id: 'refused' })
      : el('p', { class: 'muted' }, 'None.'),
    el('h2', {}, 'Skipped (' + report.skipped.length + ')'),
    report.skipped.length ? table(['disk', 'pool', 'host', 'reason', 'message'], report.skipped.map((s) => el('tr', { 'data-disk': s.disk },
      el('td', {}, s.disk), el('td', {}, s.pool), el('td', {}, s.host), el('td', {}, s.reason), el('td', {}, s.message))), { id: 'skipped' })
      : el('p', { class: 'muted' }, 'None.'),
    el('h2', {}, 'Space recoveries (' + report.recoveries.length + ')'),
    report.recoveries.length ? table(['recovery', 'status', 'host', 'volume', 'needs', 'free', 'what it does', ''], report.recoveries.map((r) => el('tr', { 'data-recovery': r.recoveryId },
      el('td', {}, r.recoveryId),
      el('td', { class: 'status-' + r.status }, r.status),
      el('td', {}, r.host), el('td', {}, r.volume),
      el('td', { class: 'num' }, bytes(r.requiredBytes)), el('td', { class: 'num' }, bytes(r.availableBytes)),
      el('td', {}, r.explanation, el('ol', {}, r.steps.map((s) => el('li', {}, s.action + ': ' + s.explanation)))),
      el('td', {}, mayOperate && r.status === 'proposed' && !ended
        ? el('button', { type: 'button', class: 'approve', 'data-recovery': r.recoveryId, onclick: () => approve(r.recoveryId) }, 'Approve')
        : null))), { id: 'recoveries' })
      : el('p', { class: 'muted' }, 'None.'),
    report.state === 'standing' || requests.open.length || requests.answered.length
      ? backupRequests(requests, moreRequests) : null,
    el('h2', {}, 'Actions (' + report.actions.length + ')'),
    report.actions.length ? table(['#', 'at', 'action', 'by', 'from', 'detail'], report.actions.map((a) => el('tr', {},
      el('td', { class: 'num' }, a.sequence), el('td', {}, time(a.at)), el('td', {}, a.action), el('td', {}, a.principal),
      el('td', {}, a.address), el('td', {}, a.detail))), { id: 'actions' })
      : el('p', { class: 'muted' }, 'None.'));
}

/** Backup requests: under way, then answered with what the backup system was told. */
function backupRequests(requests, moreRequests) {
  const what = (r) => r.disk || r.folder;
  const row = (r) => el('tr', { 'data-request': r.requestId, 'data-status': r.status, 'data-outcome': r.outcome ? r.outcome.outcome : '' },
    el('td', {}, r.eventId, el('div', { class: 'muted' }, r.source)),
    el('td', {}, r.kind),
    el('td', {}, what(r)),
    el('td', {}, r.pool || r.host),
    el('td', {}, time(r.receivedAt)),
    el('td', {}, r.deadline ? time(r.deadline) : ''),
    el('td', { class: 'num' }, r.priority),
    el('td', { class: r.outcome ? 'outcome-' + r.outcome.outcome : 'status-' + r.status }, r.outcome ? r.outcome.outcome : r.status),
    el('td', {}, r.outcome && r.outcome.reason ? [r.outcome.reason, r.outcome.message ? ': ' + r.outcome.message : ''] : ''),
    el('td', { class: 'num' }, r.outcome ? bytes(r.outcome.merges.reduce((sum, m) => sum + (m.bytesMerged || 0), 0)) : r.jobIds.length + ' jobs'));
  const headings = ['event', 'kind', 'disk or folder', 'pool or host', 'received', 'deadline', 'priority', 'state', 'reason', 'merged'];
  return [
    el('h2', {}, 'Backup requests (' + requests.open.length + ' under way, ' + requests.answered.length + (requests.next ? '+' : '') + ' answered)'),
    requests.open.length ? table(headings, requests.open.map(row), { id: 'requests-open' })
      : el('p', { class: 'muted' }, 'None under way.'),
    requests.answered.length ? table(headings, requests.answered.map(row), { id: 'requests-answered' }) : null,
    requests.next ? el('p', {}, el('button', { type: 'button', id: 'more-requests', onclick: () => moreRequests() }, 'More answered requests')) : null];
}

function figures(map) {
  return Object.entries(map || {}).map(([k, v]) => el('div', {}, k + ': ' + (typeof v === 'number' && /bytes|size|space/i.test(k) ? bytes(v) : JSON.stringify(v))));
}

function jobs(list) {
  if (!list.length) return el('p', { class: 'muted' }, 'No jobs yet.');
  return table(['job', 'kind', 'host', 'disk', 'state', 'progress', 'rate', 'ETA', 'waiting for', 'merged'], list.map((j) => {
    const p = j.status === 'published' ? j.progress : null;
    const done = p && p.bytesTotal ? p.bytesDone / p.bytesTotal : null;
    const eta = p && p.bytesPerSecond ? (p.bytesTotal - p.bytesDone) / p.bytesPerSecond : null;
    const bar = el('div', { class: 'bar' }, el('div'));
    if (done !== null) bar.firstChild.style.width = Math.round(done * 100) + '%';
    return el('tr', { 'data-job': j.jobId, 'data-status': j.status, 'data-outcome': j.outcome },
      el('td', {}, j.jobId),
      el('td', {}, j.kind),
      el('td', {}, j.host),
      el('td', {}, j.child || j.destination),
      el('td', { class: 'outcome-' + (j.outcome || '') }, j.outcome || j.status, j.attempts > 1 ? ' (attempt ' + j.attempts + ')' : ''),
      el('td', {}, p ? [bar, bytes(p.bytesDone) + ' of ' + bytes(p.bytesTotal)] : ''),
      el('td', { class: 'num' }, p ? rate(p.bytesPerSecond) : '', p && p.pacing ? ' (' + p.pacing.reason + ')' : ''),
      el('td', { class: 'num' }, duration(eta)),
      el('td', {}, j.waitingFor),
      el('td', { class: 'num' }, j.bytesMerged ? bytes(j.bytesMerged) : ''));
  }), { id: 'jobs' });
}

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const BUCKETS = 60;
const SERIES = 8; // colours, app.css .series-0 to .series-7 (classes: the page's policy allows no inline styles)

/**
 * Bytes merged over the campaign's whole run, one line per pool or per volume: each finished job's bytes spread
 * evenly over the time it ran (its start and duration), a running job's bytes so far over the time since it was
 * sent. Drawn from the report, so it covers the time before the page was opened too.
 */
function byPlace(report, kind, keyOf) {
  const now = report.endedAt ? Date.parse(report.endedAt) : Date.now();
  const spans = [];
  for (const j of report.jobs) {
    const key = keyOf(j);
    if (!key || !j.startedAt) continue;
    const running = !j.outcome;
    const bytesMoved = running ? (j.progress ? j.progress.bytesDone : 0) : j.bytesMerged;
    if (!bytesMoved) continue;
    const start = Date.parse(j.startedAt);
    const end = running ? now : start + (isoSeconds(j.duration) || 0) * 1000;
    spans.push({ key, start, end: Math.max(end, start + 1), bytes: bytesMoved });
  }
  const id = 'merged-by-' + kind;
  if (!spans.length) return el('p', { class: 'muted', id }, 'Nothing merged yet (by ' + kind + ').');
  const first = Math.min(...spans.map((s) => s.start));
  const last = Math.max(...spans.map((s) => s.end));
  const step = Math.max(1000, (last - first) / BUCKETS); // milliseconds per point
  const lines = new Map(); // key -> {perBucket: bytes, total: bytes}
  for (const s of spans) {
    if (!lines.has(s.key)) lines.set(s.key, { perBucket: new Array(BUCKETS).fill(0), total: 0 });
    const line = lines.get(s.key);
    line.total += s.bytes;
    const perMs = s.bytes / (s.end - s.start);
    for (let b = Math.max(0, Math.floor((s.start - first) / step)); b < BUCKETS; b++) {
      const lo = Math.max(s.start, first + b * step);
      const hi = Math.min(s.end, first + (b + 1) * step);
      if (hi <= lo) break;
      line.perBucket[b] += perMs * (hi - lo);
    }
  }
  const width = 640, height = 140, pad = 4, top = 14;
  const peak = Math.max(1, ...[...lines.values()].flatMap((l) => l.perBucket)) / (step / 1000);
  const root = svg('svg', { class: 'chart', id, width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  const keys = [...lines.keys()].sort();
  keys.forEach((key, i) => {
    const line = lines.get(key);
    const points = line.perBucket.map((b, n) => {
      const x = pad + (n / (BUCKETS - 1)) * (width - 2 * pad);
      const y = height - pad - (b / (step / 1000) / peak) * (height - 2 * pad - top);
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    root.append(svg('polyline', { points: points.join(' '), 'data-key': key, 'data-bytes': line.total, class: 'series-' + (i % SERIES) }));
  });
  root.append(svg('text', { x: 8, y: 11 }, 'by ' + kind + ' · peak ' + rate(peak) + ' · over ' + duration((last - first) / 1000)));
  const legend = el('ul', { class: 'legend' }, keys.map((key, i) => el('li', { 'data-key': key },
    el('span', { class: 'swatch series-' + (i % SERIES) }), key, ' ', el('span', { class: 'muted' }, bytes(lines.get(key).total)))));
  return el('div', { class: 'by-place' }, root, legend);
}

/** The campaign's throughput since this page opened, as a line. */
function chart(samples) {
  const width = 640, height = 120, pad = 4;
  const root = svg('svg', { class: 'chart', id: 'throughput', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  if (samples.length < 2) {
    root.append(svg('text', { x: 8, y: height / 2 }, 'Throughput is drawn from the progress workers report while this page is open.'));
    return root;
  }
  const first = samples[0].at, last = samples[samples.length - 1].at;
  const top = Math.max(1, ...samples.map((s) => s.bytesPerSecond));
  const points = samples.map((s) => {
    const x = pad + ((s.at - first) / Math.max(1, last - first)) * (width - 2 * pad);
    const y = height - pad - (s.bytesPerSecond / top) * (height - 2 * pad - 12);
    return x.toFixed(1) + ',' + y.toFixed(1);
  });
  root.append(svg('polyline', { points: points.join(' ') }));
  root.append(svg('text', { x: 8, y: 12 }, 'peak ' + rate(top) + ' · now ' + (rate(samples[samples.length - 1].bytesPerSecond) || '0 B/s') + ' · over ' + duration((last - first) / 1000)));
  return root;
}
