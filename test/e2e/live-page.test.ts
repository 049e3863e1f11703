import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type StackProcess } from './stack-process.js'

const CHROMIUM = '/usr/bin/chromium'

async function chat(gw: string, content: string, explain: boolean): Promise<number> {
  const res = await fetch(`${gw}/my-first-model/qwen3-0-6b/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(explain ? { 'x-maitred-explain': '1' } : {}) },
    body: JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content }], max_tokens: 3 }),
  })
  await res.text()
  return res.status
}

/** The live page in Debian's Chromium, headless (skipped where Chromium is not installed: CI installs it). */
describe.skipIf(!existsSync(CHROMIUM))('the live page in headless Chromium', () => {
  let stack: StackProcess
  let browser: Browser
  let page: Page
  const stat = (endpoint: string, name: string) => page.locator(`[data-endpoint="${endpoint}"] [data-stat="${name}"]`).textContent()

  beforeAll(async () => {
    stack = await startStack(['--time-scale', '20'])
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  }, 90_000)
  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
  })

  it('is printed at start and draws gateways, routes, pools and both endpoints up', async () => {
    expect(stack.stdout()).toContain(`Live page   ${stack.state.ui}`)
    await page.goto(stack.state.ui!)
    await expect.poll(() => page.locator('[data-endpoint][data-healthy="true"]').count(), { timeout: 10_000 }).toBe(2)
    expect(await page.locator('#gateways .node').allTextContents()).toEqual([expect.stringContaining('openshift-ingress/openshift-ai-inference')])
    expect(await page.locator('#routes .node').allTextContents()).toEqual([expect.stringContaining('my-first-model/qwen3-0-6b-kserve-route')])
    expect(await page.locator('#pools .node').allTextContents()).toEqual([expect.stringContaining('qwen3-0-6b-inference-pool')])
    // Gateway → route → pool → 2 endpoints.
    expect(await page.locator('#links path').count()).toBe(4)
  }, 30_000)

  it('updates under traffic: request counts and share, prefix hits, and the explained decisions', async () => {
    const gw = stack.gatewayUrl()
    const prefix = 'Summarise the following design document about the gateway and its picker. '.repeat(6)
    for (let i = 0; i < 8; i++) expect(await chat(gw, `${prefix} part ${i}`, i >= 6)).toBe(200)
    const endpoints = await page.locator('[data-endpoint]').evaluateAll((els) => els.map((e) => e.getAttribute('data-endpoint')!))
    await expect
      .poll(async () => (await Promise.all(endpoints.map((e) => stat(e, 'requests')))).reduce((n, t) => n + Number(t), 0), { timeout: 10_000 })
      .toBe(8)
    const shares = await Promise.all(endpoints.map((e) => stat(e, 'share')))
    expect(shares.reduce((sum, s) => sum + Number.parseFloat(s ?? '0'), 0)).toBeCloseTo(100, 0)
    expect((await Promise.all(endpoints.map((e) => stat(e, 'prefix')))).some((t) => Number.parseFloat(t ?? '0') > 0)).toBe(true)
    await expect.poll(() => page.locator('details.decision').count(), { timeout: 10_000 }).toBe(2)
    const table = page.locator('details.decision').first().locator('table')
    expect(await table.locator('th').allTextContents()).toEqual(expect.arrayContaining(['profile', 'endpoint', 'prefix-cache-scorer', 'total', 'picked']))
    expect(await table.locator('tr.picked').count()).toBe(1)
    if (process.env.MAITRED_LIVE_PAGE_SCREENSHOT) await page.screenshot({ path: process.env.MAITRED_LIVE_PAGE_SCREENSHOT, fullPage: true })
  }, 30_000)

  it('shows a killed replica as down', async () => {
    const [victim] = JSON.parse(await stack.get('endpoints', true)) as { id: string; pid: number }[]
    process.kill(victim!.pid, 'SIGKILL')
    await expect.poll(() => page.locator(`[data-endpoint="${victim!.id}"]`).getAttribute('data-healthy'), { timeout: 10_000 }).toBe('false')
    expect(await page.locator(`[data-endpoint="${victim!.id}"] .badge`).textContent()).toBe('down')
    expect(await page.locator('[data-endpoint][data-healthy="true"]').count()).toBe(1)
  }, 30_000)
})
