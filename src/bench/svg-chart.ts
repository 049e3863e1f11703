// Small inline SVG charts for the offline HTML report: no chart library, no script, nothing fetched.

export interface Series {
  name: string
  points: { x: number; y: number }[]
}

const W = 560
const H = 260
const M = { left: 56, right: 16, top: 16, bottom: 40 }
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']

export const color = (i: number) => COLORS[i % COLORS.length]!

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2))

function frame(xLabel: string, yLabel: string, xMax: number, yMax: number, xMin = 0): { body: string; x: (v: number) => number; y: (v: number) => number } {
  const x = (v: number) => M.left + ((v - xMin) / (xMax - xMin || 1)) * (W - M.left - M.right)
  const y = (v: number) => H - M.bottom - (v / (yMax || 1)) * (H - M.top - M.bottom)
  const ticks = [0, 0.25, 0.5, 0.75, 1]
  const body = [
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#333"/>`,
    ...ticks.map((t) => `<text x="${M.left - 4}" y="${y(t * yMax) + 4}" text-anchor="end" font-size="10">${fmt(t * yMax)}</text>`),
    ...ticks.map((t) => `<text x="${x(xMin + t * (xMax - xMin))}" y="${H - M.bottom + 14}" text-anchor="middle" font-size="10">${fmt(xMin + t * (xMax - xMin))}</text>`),
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${escapeHtml(xLabel)}</text>`,
    `<text x="12" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(M.top + H - M.bottom) / 2})">${escapeHtml(yLabel)}</text>`,
  ].join('')
  return { body, x, y }
}

function legend(names: string[]): string {
  return names
    .map((n, i) => `<rect x="${M.left + 8}" y="${M.top + i * 14}" width="10" height="10" fill="${color(i)}"/><text x="${M.left + 22}" y="${M.top + 9 + i * 14}" font-size="10">${escapeHtml(n)}</text>`)
    .join('')
}

const svg = (title: string, body: string) =>
  `<figure><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${body}</svg></figure>`

/** Lines with point markers (latency vs rate, share over time). */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points)
  const xMin = Math.min(0, ...all.map((p) => p.x))
  const f = frame(xLabel, yLabel, Math.max(...all.map((p) => p.x), xMin + 1), Math.max(...all.map((p) => p.y), 0) * 1.1 || 1, xMin)
  const lines = series.map((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x)
    const d = pts.map((p, k) => `${k === 0 ? 'M' : 'L'}${f.x(p.x).toFixed(1)},${f.y(p.y).toFixed(1)}`).join('')
    return `<path d="${d}" fill="none" stroke="${color(i)}" stroke-width="2"/>` + pts.map((p) => `<circle cx="${f.x(p.x).toFixed(1)}" cy="${f.y(p.y).toFixed(1)}" r="2.5" fill="${color(i)}"/>`).join('')
  })
  return svg(title, f.body + lines.join('') + legend(series.map((s) => s.name)))
}

/** A histogram of values in `bins` equal-width bins. */
export function histogramChart(title: string, xLabel: string, values: number[], bins = 30): string {
  if (values.length === 0) return svg(title, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text>`)
  const min = Math.min(...values)
  const max = Math.max(...values)
  const width = (max - min) / bins || 1
  const counts = new Array<number>(bins).fill(0)
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - min) / width))]!++
  const f = frame(xLabel, 'requests', min + width * bins, Math.max(...counts) * 1.1, min)
  const bars = counts.map((c, i) => {
    const x0 = f.x(min + i * width)
    const x1 = f.x(min + (i + 1) * width)
    return `<rect x="${x0.toFixed(1)}" y="${f.y(c).toFixed(1)}" width="${Math.max(0.5, x1 - x0 - 1).toFixed(1)}" height="${(f.y(0) - f.y(c)).toFixed(1)}" fill="${color(0)}"/>`
  })
  return svg(title, f.body + bars.join(''))
}
