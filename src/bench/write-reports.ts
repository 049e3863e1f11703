import { writeFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { reportCsv } from './report-csv.js'
import { reportHtml } from './report-html.js'
import type { Report } from './report-schema.js'

/** Writes the report to each `--output` file, in the format its extension names (.json, .csv, .html). */
export async function writeReports(report: Report, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const ext = extname(file).toLowerCase()
    const text = ext === '.json' ? JSON.stringify(report, null, 2) + '\n' : ext === '.csv' ? reportCsv(report) : ext === '.html' || ext === '.htm' ? reportHtml(report) : undefined
    if (text === undefined) throw new Error(`--output ${file}: unknown format ${JSON.stringify(ext)} (use .json, .csv or .html)`)
    await writeFile(file, text)
  }
}
