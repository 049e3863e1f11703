let isoSecond = -1
let isoPrefix = ''
/**
 * The current time in ISO 8601 (`toISOString`'s format). The date and time up to the second are formatted once per second;
 * each request adds only its milliseconds, since thousands of requests start in the same second under load.
 */
export function isoNow(): string {
  const ms = Date.now()
  const second = Math.floor(ms / 1000)
  if (second !== isoSecond) {
    isoSecond = second
    isoPrefix = new Date(ms).toISOString().slice(0, 20)
  }
  const millis = ms - second * 1000
  return `${isoPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`
}
