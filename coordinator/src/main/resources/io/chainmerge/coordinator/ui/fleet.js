// The fleet: every volume's latest space check, by pool and worker, with its chains as trees.
import { get } from './api.js';
import { bytes, el, fill, time } from './dom.js';

async function inventory(signal) {
  const volumes = [];
  let after = null;
  do {
    const page = await get('/v1/inventory?limit=200' + (after ? '&after=' + encodeURIComponent(after) : ''));
    if (signal.aborted) return volumes;
    volumes.push(...page.items);
    after = page.next;
  } while (after);
  return volumes;
}

export async function showFleet(view, signal) {
  const volumes = await inventory(signal);
  const search = el('input', { type: 'search', id: 'search', placeholder: 'VM folder or file name', 'aria-label': 'search' });
  const shown = el('div', { id: 'fleet' });
  const draw = () => fill(shown, fleet(volumes, search.value.trim().toLowerCase()));
  search.addEventListener('input', draw);
  fill(view, el('h1', {}, 'Fleet'), el('p', {}, search, ' ', el('span', { class: 'muted' }, volumes.length + ' volumes')), shown);
  draw();
}

function fleet(volumes, query) {
  if (!volumes.length) return el('p', { class: 'muted' }, 'No space check yet: a campaign (a dry run will do) has the workers scan their volumes.');
  const pools = new Map();
  for (const v of volumes) {
    if (!pools.has(v.pool)) pools.set(v.pool, new Map());
    const hosts = pools.get(v.pool);
    if (!hosts.has(v.host)) hosts.set(v.host, []);
    hosts.get(v.host).push(v);
  }
  const sections = [];
  for (const [pool, hosts] of [...pools].sort()) {
    const workers = [];
    for (const [host, list] of [...hosts].sort()) {
      const shownVolumes = list.map((v) => volume(v, query)).filter(Boolean);
      if (shownVolumes.length) workers.push(el('h3', {}, 'worker ', host), shownVolumes);
    }
    if (workers.length) sections.push(el('section', { 'data-pool': pool }, el('h2', {}, 'pool ', pool), workers));
  }
  return sections.length ? sections : el('p', { class: 'muted', id: 'no-match' }, 'Nothing matches.');
}

function matches(disk, query) {
  return !query || disk.path.toLowerCase().includes(query);
}

function volume(v, query) {
  const byPath = new Map(v.disks.map((d) => [d.path, d]));
  const roots = v.disks.filter((d) => d.link === 'ROOT');
  const orphans = v.disks.filter((d) => d.link !== 'ROOT' && d.link !== 'LINKED');
  const wanted = new Set(v.disks.filter((d) => matches(d, query)).map((d) => d.path));
  if (query && wanted.size === 0) return null;
  // A tree is shown when any of its disks matches: the chain is what a person acts on.
  const treeMatches = (d) => wanted.has(d.path) || d.children.some((c) => byPath.has(c) && treeMatches(byPath.get(c)));
  const depth = v.disks.reduce((max, d) => Math.max(max, d.depth || 0), 0);
  const free = v.usableBytes - (v.reserveBytes || 0);
  return el('div', { class: 'volume', 'data-volume': v.host + ':' + v.volume },
    el('strong', {}, v.volume), ' ', el('span', { class: 'muted' }, v.fileSystem || ''),
    el('div', {}, 'free ', el('span', { class: 'free' }, bytes(v.usableBytes)), ' of ', bytes(v.totalBytes),
      v.reserveBytes ? ' (reserve ' + bytes(v.reserveBytes) + ', room ' + bytes(Math.max(0, free)) + ')' : '',
      ' · ', v.disks.length, ' disks, deepest chain ', depth, ' · checked ', time(v.scannedAt)),
    v.pendingMerges.length ? el('div', { class: 'error pending' }, 'interrupted merges: ', v.pendingMerges.join(', ')) : null,
    v.problems.length ? el('div', { class: 'error' }, 'unreadable: ', v.problems.join('; ')) : null,
    el('ul', { class: 'tree' }, roots.filter(treeMatches).map((r) => tree(r, byPath, wanted, query))),
    orphans.filter((d) => wanted.has(d.path)).length
      ? el('div', {}, 'orphans:', el('ul', { class: 'tree' }, orphans.filter((d) => wanted.has(d.path)).map((d) =>
        el('li', { class: 'orphan', 'data-path': d.path }, d.path, ' — ', d.link, d.linkProblem ? ': ' + d.linkProblem : ''))))
      : null);
}

function tree(disk, byPath, wanted, query, seen = new Set()) {
  seen.add(disk.path);
  const children = disk.children.map((c) => byPath.get(c)).filter((c) => c && !seen.has(c.path));
  return el('li', { 'data-path': disk.path, class: query && wanted.has(disk.path) ? 'match' : null },
    disk.path, el('span', { class: 'muted' }, ' · depth ', disk.depth, ' · ', bytes(disk.fileSize), ' · ', disk.type,
      children.length > 1 ? ' · ' + children.length + ' branches' : ''),
    children.length ? el('ul', { class: 'tree' }, children.map((c) => tree(c, byPath, wanted, query, seen))) : null);
}
