// The live page: polls /api/live once a second and redraws the stack (gateways → routes → pools → endpoints, linked by
// SVG curves), each endpoint's load and request share, and the last explained routing decisions. No framework: a few
// DOM helpers over one JSON snapshot.
'use strict'

const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  for (const c of children) e.append(c)
  return e
}
const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`)

/** Node boxes by key, and the links between them (drawn after layout). */
let links = []

function node(column, key, cls, name, meta) {
  const box = el('div', { class: `node ${cls}`, 'data-key': key }, el('div', { class: 'name' }, name), el('div', { class: 'meta' }, meta))
  document.getElementById(column).append(box)
  return box
}

function endpointNode(e, traffic) {
  const t = traffic[e.id] ?? { requests: 0, share: 0, prefixHitRate: null }
  const m = e.metrics
  const box = node('endpoints', `endpoint:${e.id}`, `endpoint ${e.healthy ? 'up' : 'down'}`, e.id, e.address)
  box.querySelector('.name').append(el('span', { class: `badge ${e.healthy ? 'up' : 'down'}` }, e.healthy ? 'up' : 'down'))
  box.setAttribute('data-endpoint', e.id)
  box.setAttribute('data-healthy', String(e.healthy))
  const stat = (label, value, name) => [el('dt', {}, label), el('dd', { 'data-stat': name }, value)]
  box.append(
    el(
      'dl',
      { class: 'stats' },
      ...stat('requests', String(t.requests), 'requests'),
      ...stat('share', pct(t.share), 'share'),
      ...stat('queue', m ? String(m.waitingQueueSize) : '–', 'queue'),
      ...stat('running', m ? String(m.runningRequestsSize) : '–', 'running'),
      ...stat('KV', m ? pct(m.kvCacheUsagePercent) : '–', 'kv'),
      ...stat('prefix hits', pct(t.prefixHitRate), 'prefix'),
    ),
    el('div', { class: 'share' }, el('div', { style: `width:${(t.share * 100).toFixed(1)}%` })),
  )
  if (!e.healthy && e.lastError) box.append(el('div', { class: 'meta' }, e.lastError))
}

function drawGraph(s) {
  for (const id of ['gateways', 'routes', 'pools', 'endpoints']) {
    const col = document.getElementById(id)
    col.replaceChildren(col.querySelector('h2'))
  }
  links = []
  const { status, traffic } = s
  for (const g of status.gateways) node('gateways', `gateway:${g.namespace}/${g.name}`, 'gateway', `${g.namespace}/${g.name}`, g.listeners.map((l) => l.url).join(' '))
  for (const r of status.routes) {
    const key = `route:${r.namespace}/${r.name}`
    const paths = r.rules.flatMap((rule) => rule.paths.map((p) => `${p.value} → ${rule.backends.join(', ')}`))
    node('routes', key, 'route', `${r.namespace}/${r.name}`, paths.join('\n'))
    for (const p of r.parents) links.push([`gateway:${p.gateway.namespace}/${p.gateway.name}`, key])
    for (const b of new Set(r.rules.flatMap((rule) => rule.backends))) {
      if (b.startsWith('InferencePool/')) links.push([key, `pool:${r.namespace}/${b.slice('InferencePool/'.length)}`])
    }
  }
  for (const p of status.pools) {
    const key = `pool:${p.namespace}/${p.name}`
    node('pools', key, 'pool', `${p.namespace}/${p.name}`, `picker ${p.picker} (${p.pickerConfig}); ${p.failureMode}`)
    for (const e of status.endpoints) if (e.pools.includes(p.name) && e.id.startsWith(`${p.namespace}/`)) links.push([key, `endpoint:${e.id}`])
  }
  for (const e of status.endpoints) endpointNode(e, traffic)
  drawLinks()
}

/** Curves from the right edge of each box to the left edge of the next column's box. */
function drawLinks() {
  const svg = document.getElementById('links')
  const origin = document.getElementById('graph').getBoundingClientRect()
  const box = (key) => document.querySelector(`[data-key="${CSS.escape(key)}"]`)?.getBoundingClientRect()
  const paths = links.flatMap(([a, b]) => {
    const from = box(a)
    const to = box(b)
    if (!from || !to) return []
    const x1 = from.right - origin.left
    const y1 = from.top + from.height / 2 - origin.top
    const x2 = to.left - origin.left
    const y2 = to.top + to.height / 2 - origin.top
    const mid = (x1 + x2) / 2
    return [`<path d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}"/>`]
  })
  svg.innerHTML = paths.join('')
}

function drawDecisions(decisions) {
  const root = document.getElementById('decisions')
  if (decisions.length === 0) return root.replaceChildren(el('p', { class: 'empty' }, 'none yet'))
  root.replaceChildren(
    ...decisions.map((d, i) => {
      const scorers = [...new Set(d.rows.flatMap((r) => r.scores.map((s) => s.scorer)))]
      const rows = d.rows.map((r) =>
        el(
          'tr',
          { class: r.picked ? 'picked' : r.droppedBy ? 'dropped' : '' },
          el('td', {}, r.profile),
          el('td', {}, r.endpoint),
          ...scorers.map((name) => {
            const s = r.scores.find((x) => x.scorer === name)
            return el('td', {}, s ? `${s.raw.toFixed(2)}×${s.weight}` : '')
          }),
          el('td', {}, r.droppedBy ? `dropped by ${r.droppedBy}` : r.total.toFixed(2)),
          el('td', {}, r.picked ? '✓' : ''),
        ),
      )
      const table = el('table', {}, el('tr', {}, ...['profile', 'endpoint', ...scorers, 'total', 'picked'].map((h) => el('th', {}, h))), ...rows)
      const details = el('details', { class: 'decision', 'data-request': d.requestId }, el('summary', {}, `${d.requestId} → ${d.endpoint} (pool ${d.pool}; profiles ${d.profiles.join(', ')})`), table)
      if (i === 0) details.open = true
      return details
    }),
  )
}

async function refresh() {
  try {
    const res = await fetch('/api/live', { cache: 'no-store' })
    const s = await res.json()
    drawGraph(s)
    drawDecisions(s.decisions)
    document.getElementById('updated').textContent = `updated ${new Date(s.at).toLocaleTimeString()}`
    document.body.setAttribute('data-updated', s.at)
  } catch (err) {
    document.getElementById('updated').textContent = `cannot reach maitred: ${err.message}`
  }
}

window.addEventListener('resize', drawLinks)
refresh()
setInterval(refresh, 1000)
